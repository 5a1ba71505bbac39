import type { Command, CommandMetadata } from './messages.js';
import type { Position } from './position.js';
import type { Result } from './result.js';

/** Every expected failure carries a `type` tag and a human-readable message. */
export type Rejection = Readonly<{ type: string; message: string }>;

export type FieldError = Readonly<{ field: string; message: string }>;

export type ValidationRejection = Readonly<{ type: 'ValidationError'; message: string; fields: readonly FieldError[] }>;

export type CommandSuccess = Readonly<{
  streamId: string;
  version: number;
  /** Global position of the command's last event, or of the stream's last event when nothing changed. */
  position: Position;
  /** False when the decision produced no events (an update that changes nothing). */
  changed: boolean;
}>;

export type CommandOutcome<R extends Rejection = Rejection> = Result<CommandSuccess, R | ValidationRejection>;

/** Input rules for a command's data. Any Standard-Schema-like parser fits; zod schemas do. */
export type CommandSchema<Data> = Readonly<{
  safeParse: (data: unknown) => { success: true; data: Data } | { success: false; error: { issues: readonly SchemaIssue[] } };
}>;
/** `keys` names the offending keys of an unrecognised-keys issue, whose path is the parent object. */
export type SchemaIssue = Readonly<{ path: readonly PropertyKey[]; message: string; keys?: readonly string[] }>;

export type CommandEnvelope<C extends Command = Command> = Readonly<{
  command: C;
  metadata: CommandMetadata;
}>;

/**
 * A command that names the rejections its handler may answer with, so
 * registering a handler and executing the command are both typed without a
 * central registry. The `rejection` marker is never set at run time.
 */
export type TypedCommand<Type extends string, Data extends object, R extends Rejection> = Command<Type, Data> & Readonly<{ rejection?: R }>;

/** The rejections a command declares (any tagged rejection for an untyped command), plus validation's. */
export type RejectionOf<C> = C extends { rejection?: infer R extends Rejection } ? R : Rejection;

/**
 * The append lost a race on the command's idempotency key. Only handlers
 * return it: the idempotency step answers with the winner's outcome instead.
 */
export type IdempotencyKeyTaken = Readonly<{ type: 'IdempotencyKeyTaken'; message: string }>;

/**
 * The command's stream holds an event this server cannot read (a newer
 * schema version, or an upcaster that fails). Any command may answer it:
 * nothing was decided, and repeating the command after the fix decides it.
 */
export type StreamUnreadable = Readonly<{ type: 'StreamUnreadable'; message: string; eventType: string; schemaVersion: number }>;

export type CommandHandler<C extends Command = Command> = (
  envelope: CommandEnvelope<C>,
) => Promise<CommandOutcome<RejectionOf<C> | IdempotencyKeyTaken | StreamUnreadable>>;

export type CommandRegistration<C extends Command = Command> = Readonly<{
  handle: CommandHandler<C>;
  schema?: CommandSchema<C['data']>;
}>;

/**
 * A cross-cutting step around every command. Steps run in the order given to
 * the bus; each decides whether and how to call `next`.
 */
export type CommandMiddleware = (
  envelope: CommandEnvelope,
  registration: CommandRegistration,
  next: (envelope: CommandEnvelope) => Promise<CommandOutcome>,
) => Promise<CommandOutcome>;

export class UnknownCommandError extends Error {
  constructor(type: string, known: readonly string[]) {
    super(`No handler is registered for command "${type}" (known: ${known.join(', ') || 'none'})`);
  }
}

export type CommandBus = Readonly<{
  register: <C extends Command>(type: C['type'], registration: CommandRegistration<C>) => void;
  execute: <C extends Command>(command: C, metadata?: Partial<CommandMetadata>) => Promise<CommandOutcome<RejectionOf<C> | StreamUnreadable>>;
}>;

export type CommandBusOptions = Readonly<{
  middlewares?: readonly CommandMiddleware[];
  /** The decisions' clock (`metadata.now`). */
  clock: () => Date;
  /** Ids of commands (`metadata.commandId`). */
  newId: () => string;
}>;

export function createCommandBus(options: CommandBusOptions): CommandBus {
  const { middlewares = [], clock, newId } = options;
  // Stored untyped: the type parameter of `register` ties each handler to its own command.
  const registrations = new Map<string, CommandRegistration<Command>>();

  const register: CommandBus['register'] = (type, registration) => {
    if (registrations.has(type)) throw new Error(`Command "${type}" is already registered`);
    registrations.set(type, registration as unknown as CommandRegistration<Command>);
  };

  const execute = <C extends Command>(command: C, metadata: Partial<CommandMetadata> = {}): Promise<CommandOutcome<RejectionOf<C> | StreamUnreadable>> => {
    const registration = registrations.get(command.type);
    if (!registration) return Promise.reject(new UnknownCommandError(command.type, [...registrations.keys()]));
    const envelope: CommandEnvelope = {
      command,
      metadata: { ...metadata, commandId: metadata.commandId ?? newId(), now: metadata.now ?? clock() },
    };
    const run = (index: number, current: CommandEnvelope): Promise<CommandOutcome> => {
      const middleware = middlewares[index];
      if (!middleware) return registration.handle(current);
      return middleware(current, registration, (next) => run(index + 1, next));
    };
    return run(0, envelope) as Promise<CommandOutcome<RejectionOf<C> | StreamUnreadable>>;
  };

  return { register, execute };
}

/** Parses command data with the registered schema; the handler only ever sees valid, normalised data. */
export const validation: CommandMiddleware = (envelope, registration, next) => {
  if (!registration.schema) return next(envelope);
  const parsed = registration.schema.safeParse(envelope.command.data);
  if (!parsed.success) {
    const fields = parsed.error.issues.flatMap((issue) =>
      (issue.keys ?? [undefined]).map((key) => ({
        field: [...issue.path, ...(key === undefined ? [] : [key])].map(String).join('.'),
        message: issue.message,
      })),
    );
    return Promise.resolve({
      ok: false,
      error: { type: 'ValidationError', message: 'The input is not valid', fields },
    });
  }
  return next({ ...envelope, command: { ...envelope.command, data: parsed.data as object } });
};
