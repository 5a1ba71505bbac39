import type { CommandEnvelope, CommandHandler, CommandOutcome, Rejection } from './command-bus.js';
import { foldEvents, type Decider } from './decider.js';
import type { EventStore, NewEvent, UniqueValue } from './event-store.js';
import { IDEMPOTENCY_KEY_TAKEN } from './idempotency.js';
import { createKeyedLock } from './keyed-lock.js';
import type { Command, CommandMetadata, Event } from './messages.js';
import { LOG_START } from './position.js';

export type UniqueValueChanges = Readonly<{ claims: readonly UniqueValue[]; releases: readonly UniqueValue[] }>;

export type DeciderHandlerOptions<C extends Command, E extends Event, S, R extends Rejection> = Readonly<{
  decider: Decider<C, E, S, R>;
  store: EventStore;
  streamId: (command: C) => string;
  /** The version the caller insists on; undefined lets a command that lost a race be decided again. */
  expectedVersion?: (command: C) => number | undefined;
  versionConflict: (conflict: { expectedVersion: number; actualVersion: number }) => R;
  /** Which unique values the state change claims and frees; written atomically with the events. */
  uniqueValues?: (before: S, after: S) => UniqueValueChanges;
  uniqueValueTaken?: (taken: UniqueValue, command: C) => R;
  /** Attempts when another writer moved the stream between read and append. */
  maxAttempts?: number;
}>;

/**
 * Read the stream, fold it, decide, append with the version decided on. The
 * only loop is the optimistic-concurrency retry; validation and idempotency
 * wrap this on the bus.
 */
export function deciderHandler<C extends Command, E extends Event, S, R extends Rejection>(
  options: DeciderHandlerOptions<C, E, S, R>,
): CommandHandler<C> {
  const { decider, store, maxAttempts = 10 } = options;
  const withStreamLock = createKeyedLock();

  const attempt = async ({ command, metadata }: CommandEnvelope<C>): Promise<CommandOutcome | 'retry'> => {
    const streamId = options.streamId(command);
    const stream = await store.readStream(streamId);
    const state = foldEvents(decider, stream.events as unknown as readonly E[]);
    const expectedVersion = options.expectedVersion?.(command);
    if (expectedVersion !== undefined && expectedVersion !== stream.version) {
      return { ok: false, error: options.versionConflict({ expectedVersion, actualVersion: stream.version }) };
    }
    const decision = decider.decide(command, state, metadata);
    if (!decision.ok) return decision;
    if (decision.value.length === 0) {
      const position = stream.events.at(-1)?.position ?? LOG_START;
      return { ok: true, value: { streamId, version: stream.version, position, changed: false } };
    }

    const after = decision.value.reduce(decider.evolve, state);
    const unique = options.uniqueValues?.(state, after) ?? { claims: [], releases: [] };
    const { idempotencyKey, idempotencyRequestHash } = metadata;
    const appended = await store.append({
      streamId,
      expectedVersion: stream.version,
      events: decision.value.map((event) => withMetadata(event, metadata)),
      claims: unique.claims,
      releases: unique.releases,
      ...(idempotencyKey !== undefined && idempotencyRequestHash !== undefined
        ? {
            idempotency: {
              key: idempotencyKey,
              requestHash: idempotencyRequestHash,
              outcome: (a) => ({ ok: true, value: { streamId, version: a.version, position: a.position, changed: true } }),
            },
          }
        : {}),
    });
    if (appended.ok) {
      const { version, position } = appended.value;
      return { ok: true, value: { streamId, version, position, changed: true } };
    }
    const conflict = appended.error;
    switch (conflict.type) {
      case 'StreamVersionConflict':
        if (expectedVersion === undefined) return 'retry';
        return { ok: false, error: options.versionConflict({ expectedVersion, actualVersion: conflict.actualVersion }) };
      case 'UniqueValueTaken':
        if (!options.uniqueValueTaken) throw new Error(`Unique value conflict in ${conflict.scope} with no handler`);
        return { ok: false, error: options.uniqueValueTaken(conflict, command) };
      case 'IdempotencyKeyTaken':
        return { ok: false, error: { type: IDEMPOTENCY_KEY_TAKEN, message: 'The idempotency key was taken concurrently' } };
    }
  };

  return (envelope) =>
    withStreamLock(options.streamId(envelope.command), async () => {
      for (let i = 1; i <= maxAttempts; i++) {
        const outcome = await attempt(envelope);
        if (outcome !== 'retry') return outcome;
        await backoff(i);
      }
      throw new Error(`Command ${envelope.command.type} lost ${maxAttempts} concurrency races in a row`);
    });
}

function withMetadata(event: Event, metadata: CommandMetadata): NewEvent {
  return {
    type: event.type,
    data: event.data,
    metadata: {
      occurredAt: metadata.now.toISOString(),
      commandId: metadata.commandId,
      correlationId: metadata.correlationId,
      idempotencyKey: metadata.idempotencyKey,
    },
  };
}

/** Jittered, so competing processes do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
