import type { Position } from './position.js';

/**
 * Messages are plain data tagged by `type`, so every consumer can switch on the
 * tag and let the compiler check exhaustiveness. Nothing here knows a domain.
 */

export type Event<Type extends string = string, Data extends object = object> = Readonly<{
  type: Type;
  data: Readonly<Data>;
}>;

export type Command<Type extends string = string, Data extends object = object> = Readonly<{
  type: Type;
  data: Readonly<Data>;
}>;

export type Query<Type extends string = string, Data extends object = object> = Readonly<{
  type: Type;
  data: Readonly<Data>;
}>;

/** What the shell knows about a command that the decider must not read from the world itself. */
export type CommandMetadata = Readonly<{
  commandId: string;
  /** The decision's clock: deciders take time from here, never from `Date.now()`. */
  now: Date;
  correlationId?: string | undefined;
  idempotencyKey?: string | undefined;
  /** Set by the idempotency step: a digest of the command, so a reused key with other input is caught. */
  idempotencyRequestHash?: string | undefined;
  /** Who sent the command: the bearer token's subject; undefined when no one signed in (or authentication is off). */
  actor?: string | undefined;
}>;

export type EventMetadata = Readonly<{
  occurredAt: string;
  commandId?: string | undefined;
  correlationId?: string | undefined;
  idempotencyKey?: string | undefined;
}>;

/** An event as it comes back from the store: its data plus where it sits in the log. */
export type StoredEvent<E extends Event = Event> = E &
  Readonly<{
    /** Place in the global log: strictly increasing in the order readers see events, and they never see one appear behind another. */
    position: Position;
    streamId: string;
    /** 1 for a stream's first event, contiguous after that. */
    streamVersion: number;
    schemaVersion: number;
    metadata: EventMetadata;
  }>;

/** Exhaustiveness guard for `switch (message.type)`. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
