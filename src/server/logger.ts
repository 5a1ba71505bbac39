import pino, { type Logger } from 'pino';

/** JSON lines on stdout. Emails, tokens and command data are never passed to it. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'cqrs-graphql' }, redact: ['email', '*.email', 'authorization', '*.authorization'] });
}
