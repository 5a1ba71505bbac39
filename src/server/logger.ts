import pino, { type Logger } from 'pino';

/**
 * JSON lines on stdout. Emails, tokens and command data are never passed to
 * it on purpose; the redact paths and the scrub below catch what slips
 * through anyway, such as a library's error message that quotes a client's
 * variables.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'cqrs-graphql' },
    redact: ['email', '*.email', 'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie'],
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Anything shaped like an email address (in JSON-escaped text), and the
 * credential after an auth scheme. Bounded repetitions keep the scan linear
 * on long lines without separators.
 */
const EMAIL = /[^\s"'\\<>()[\]{},;:@]{1,64}@[^\s"'\\<>()[\]{},;:@/]{1,255}\.[A-Za-z]{2,63}/g;
const CREDENTIAL = /\b(Bearer|Basic|Token)\s+[^\s"\\,;]+/gi;

/** Applied to every serialised line just before it is written. */
export function scrubSecrets(line: string): string {
  const withoutEmails = line.includes('@') ? line.replace(EMAIL, '[email]') : line;
  return withoutEmails.replace(CREDENTIAL, '$1 [redacted]');
}
