import type { CommandEnvelope, CommandOutcome, IdempotencyKeyTaken, Rejection, StreamUnreadable } from './command-bus.js';
import { foldEvents, type Decider } from './decider.js';
import type { EventLog, NewEvent, UniqueValue } from './event-store.js';
import { IDEMPOTENCY_KEY_TAKEN } from './idempotency.js';
import { createKeyedLock } from './keyed-lock.js';
import type { Command, CommandMetadata, Event } from './messages.js';
import { LOG_START, type Position } from './position.js';
import { createStreamStateCache } from './stream-state-cache.js';
import { streamIdOf, type StreamCategory } from './stream-id.js';
import { UnreadableEvent } from './upcasting.js';
import type { AnyStreamFold, StreamFold, StreamFolds } from './stream-folds.js';

/**
 * The rejection when the client's expected version is not the stream's. One
 * shape for every aggregate, so one GraphQL type can show it.
 */
export type VersionConflict = Readonly<{ type: 'VersionConflict'; message: string; expectedVersion: number; actualVersion: number }>;

export type UniqueValueChanges = Readonly<{ claims: readonly UniqueValue[]; releases: readonly UniqueValue[] }>;

export type DeciderHandlerOptions<C extends Command, E extends Event, S, R extends Rejection> = Readonly<{
  decider: Decider<C, E, S, R>;
  eventLog: Pick<EventLog, 'append' | 'readStream'>;
  /** The aggregate's stream category: the handler names the stream, so no two aggregates share one. */
  category: StreamCategory;
  entityId: (command: C) => string;
  /** The version the caller insists on; undefined lets a command that lost a race be decided again. */
  expectedVersion?: (command: C) => number | undefined;
  versionConflict: (conflict: { expectedVersion: number; actualVersion: number }) => R;
  /** Which unique values the state change claims and frees; written atomically with the events. */
  uniqueValues?: (before: S, after: S) => UniqueValueChanges;
  uniqueValueTaken?: (taken: UniqueValue, command: C) => R;
  /** Attempts when another writer moved the stream between read and append. */
  maxAttempts?: number;
  /**
   * How many streams' states to remember between commands, so a command on a
   * stream this process wrote recently, or on a new one, decides without
   * reading it first. 0 reads the stream for every command.
   * @default 10_000
   */
  cachedStreams?: number;
  /**
   * Snapshots of the aggregate's state: a command on a stream this process
   * does not know reads from the newest one, not from the stream's start.
   * An append that crosses a multiple of the snapshot interval has `state`
   * and `alsoSnapshot` (other folds of the same streams, e.g. a view that
   * time travel reads) snapshotted in the background, after the command
   * has its answer. Without this option every read folds the whole stream.
   */
  snapshots?: Readonly<{ folds: StreamFolds; state: StreamFold<S>; alsoSnapshot?: readonly AnyStreamFold[] }>;
}>;

/**
 * What a decision rests on: the stream read just now, or a hint that only an append can confirm.
 * `lastPosition` is the latest position among the events folded (what a no-op answers, for read-your-writes).
 */
type Basis<S> = Readonly<{ state: S; version: number; lastPosition: Position; verified: boolean }>;

/**
 * Read the stream, fold it, decide, append with the version decided on. The
 * only loop is the optimistic-concurrency retry; validation and idempotency
 * wrap this on the bus.
 *
 * The first decision rests on a hint instead of a read: the state this
 * process left the stream in, or the initial state for a stream it does not
 * know (a create). The append's expected version confirms the hint. A
 * decision that appends nothing (a rejection, a no-op) or an append that
 * fails is not confirmed by anything, so it is made again on the stream as read.
 */
export function deciderHandler<C extends Command, E extends Event, S, R extends Rejection>(
  options: DeciderHandlerOptions<C, E, S, R>,
): (envelope: CommandEnvelope<C>) => Promise<CommandOutcome<R | IdempotencyKeyTaken | StreamUnreadable>> {
  const { decider, eventLog: store, category, maxAttempts = 10, cachedStreams = 10_000 } = options;
  const withStreamLock = createKeyedLock();
  const known = createStreamStateCache<S>(cachedStreams);

  const hint = (streamId: string): Basis<S> => {
    const cached = known.get(streamId);
    return { ...(cached ?? { state: decider.initialState(), version: 0 }), lastPosition: LOG_START, verified: false };
  };
  const read = async (streamId: string): Promise<Basis<S>> => {
    if (options.snapshots) {
      const folded = await options.snapshots.folds.fold(options.snapshots.state, streamId);
      return { state: folded.state, version: folded.version, lastPosition: folded.position, verified: true };
    }
    const stream = await store.readStream(streamId);
    const state = foldEvents(decider, stream.events as unknown as readonly E[]);
    return { state, version: stream.version, lastPosition: stream.events.at(-1)?.position ?? LOG_START, verified: true };
  };

  const attempt = async (
    { command, metadata }: CommandEnvelope<C>,
    basis: Basis<S>,
  ): Promise<CommandOutcome<R | IdempotencyKeyTaken> | 'retry' | 'read again'> => {
    const streamId = streamIdOf(category, options.entityId(command));
    const { state, version } = basis;
    const settled = (outcome: CommandOutcome<R | IdempotencyKeyTaken>) => (basis.verified ? outcome : 'read again');
    const expectedVersion = options.expectedVersion?.(command);
    // The decider's rejection comes first: it is true of the stream whatever version the caller
    // last saw (an update of a user who does not exist is UserNotFound, not "at version 0").
    const decision = decider.decide(command, state, metadata);
    if (!decision.ok) return settled(decision);
    if (expectedVersion !== undefined && expectedVersion !== version) {
      return settled({ ok: false, error: options.versionConflict({ expectedVersion, actualVersion: version }) });
    }
    if (decision.value.length === 0) {
      return settled({ ok: true, value: { streamId, version, position: basis.lastPosition, changed: false } });
    }

    const after = decision.value.reduce(decider.evolve, state);
    const unique = options.uniqueValues?.(state, after) ?? { claims: [], releases: [] };
    const { idempotencyKey, idempotencyRequestHash } = metadata;
    const appended = await store.append({
      streamId,
      expectedVersion: version,
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
      known.set(streamId, { state: after, version: appended.value.version });
      if (options.snapshots) {
        const { folds, state: stateFold, alsoSnapshot = [] } = options.snapshots;
        folds.appended([stateFold, ...alsoSnapshot], streamId, version, appended.value.version);
      }
      const { version: newVersion, position } = appended.value;
      return { ok: true, value: { streamId, version: newVersion, position, changed: true } };
    }
    known.delete(streamId);
    const conflict = appended.error;
    if (!basis.verified) return 'read again';
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

  return (envelope) => {
    const streamId = streamIdOf(category, options.entityId(envelope.command));
    return withStreamLock(streamId, async () => {
      const hinted = await attempt(envelope, hint(streamId));
      if (hinted !== 'read again' && hinted !== 'retry') return hinted;
      for (let i = 1; i <= maxAttempts; i++) {
        const basis = await read(streamId).catch(unreadable);
        if (!('state' in basis)) return basis;
        const outcome = await attempt(envelope, basis);
        if (outcome !== 'retry' && outcome !== 'read again') return outcome;
        await backoff(i);
      }
      throw new Error(`Command ${envelope.command.type} lost ${maxAttempts} concurrency races in a row`);
    });
  };
}

/** A stream with an event this server cannot read is not decided on: the client is told which event, and nothing is appended. */
function unreadable(error: unknown): CommandOutcome<StreamUnreadable> {
  if (!(error instanceof UnreadableEvent)) throw error;
  const { type, schemaVersion } = error.event;
  return { ok: false, error: { type: 'StreamUnreadable', message: error.message, eventType: type, schemaVersion } };
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
