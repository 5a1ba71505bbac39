import type { Command, CommandMetadata, Event } from './messages.js';
import type { Result } from './result.js';

/**
 * An aggregate as three pure functions. `decide` returns the events a command
 * causes (possibly none) or a typed rejection; `evolve` folds one event into
 * state. No IO, no clock, no randomness: those arrive in `metadata`.
 */
export type Decider<C extends Command, E extends Event, S, Rejection> = Readonly<{
  decide: (command: C, state: S, metadata: CommandMetadata) => Result<readonly E[], Rejection>;
  evolve: (state: S, event: E) => S;
  initialState: () => S;
}>;

export function foldEvents<E extends Event, S>(
  decider: Pick<Decider<Command, E, S, unknown>, 'evolve' | 'initialState'>,
  events: readonly E[],
): S {
  return events.reduce(decider.evolve, decider.initialState());
}
