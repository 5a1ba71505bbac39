import type { CommandMiddleware } from './command-bus.js';

/** The two levels the step logs at; a pino logger fits. */
export type CommandLogger = Readonly<{
  debug: (fields: object, message: string) => void;
  error: (fields: object, message: string) => void;
}>;

/** One log line per command with its outcome and duration. Never logs command data: it holds emails. */
export function commandLogging(logger: CommandLogger): CommandMiddleware {
  return async (envelope, _registration, next) => {
    const started = performance.now();
    const { commandId, correlationId } = envelope.metadata;
    const base = { command: envelope.command.type, commandId, correlationId };
    try {
      const outcome = await next(envelope);
      const ms = Math.round((performance.now() - started) * 100) / 100;
      if (outcome.ok) logger.debug({ ...base, ms, position: outcome.value.position, changed: outcome.value.changed }, 'command done');
      else logger.debug({ ...base, ms, rejection: outcome.error.type }, 'command rejected');
      return outcome;
    } catch (error) {
      logger.error({ ...base, err: error }, 'command failed');
      throw error;
    }
  };
}
