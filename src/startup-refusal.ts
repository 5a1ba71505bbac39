/**
 * An expected reason not to start: the data directory is held by another
 * process, is not a directory, the port is taken... `main` prints the message
 * as one line and exits 1, without a stack: the operator can act on it, and a
 * stack would only bury it.
 */
export class StartupRefusal extends Error {
  override readonly name: string = 'StartupRefusal';
}
