import type { Event, EventMetadata, StoredEvent } from './messages.js';
import type { Position } from './position.js';
import type { Result } from './result.js';

export type NewEvent = Event & Readonly<{ schemaVersion?: number; metadata: EventMetadata }>;

/**
 * A value that at most one stream may hold within a scope (an email address
 * among users). Claims and releases are written in the append's transaction,
 * so uniqueness holds under any concurrency without reading a read model.
 */
export type UniqueValue = Readonly<{ scope: string; value: string }>;

/** The result a command produced, remembered under its idempotency key. */
export type IdempotencyRecord = Readonly<{
  key: string;
  requestHash: string;
  /** JSON-serialisable command outcome. */
  outcome: unknown;
}>;

export type AppendRequest = Readonly<{
  streamId: string;
  /** The stream version the decision was made on; 0 for a stream that must not exist yet. */
  expectedVersion: number;
  events: readonly NewEvent[];
  claims?: readonly UniqueValue[];
  releases?: readonly UniqueValue[];
  /** Stored in the same transaction so a repeated command finds the first outcome. */
  idempotency?: Readonly<{ key: string; requestHash: string; outcome: (appended: Appended) => unknown }>;
  /**
   * A new subject's data key, sealed under the master key: inserted in the
   * append's transaction unless the subject has one (the expected-version
   * check makes a lost race a conflict, so no event is sealed under a key
   * that was not stored).
   */
  dataKey?: Readonly<{ subject: string; wrapped: Uint8Array }>;
  /**
   * Subjects whose data key is destroyed in the append's transaction: the
   * row stays as a tombstone, so no later append can create a fresh key for
   * an erased subject.
   */
  shred?: readonly string[];
}>;

export type Appended = Readonly<{
  streamId: string;
  /** The stream version after the append. */
  version: number;
  /** Global position of the last appended event. */
  position: Position;
  events: readonly StoredEvent[];
}>;

export type AppendConflict =
  | Readonly<{ type: 'StreamVersionConflict'; streamId: string; expectedVersion: number; actualVersion: number }>
  | Readonly<{ type: 'UniqueValueTaken'; scope: string; value: string; ownerStreamId: string }>
  | Readonly<{ type: 'IdempotencyKeyTaken'; key: string }>;

export type StreamSlice = Readonly<{ version: number; events: readonly StoredEvent[] }>;

/** A stretch of one stream in version order (snapshots read only what lies after them). */
export type ReadStreamFromOptions = Readonly<{ fromVersion: number; limit: number }>;

export type ReadAllOptions = Readonly<{
  /** Exclusive lower bound; `LOG_START` reads from the beginning. */
  after: Position;
  limit: number;
  /** Only events of this stream (still in global order). */
  streamId?: string;
}>;

/**
 * One page of the log between two positions, for clients paging through
 * history (a stream's, or the whole log's) in either direction.
 */
export type ReadPageOptions = Readonly<{
  /** `forward` reads up from `after`; `backward` reads down from `before`. */
  direction: 'forward' | 'backward';
  limit: number;
  /** Exclusive bounds; absent means the start (`after`) or the head (`before`) of the log. */
  after?: Position;
  before?: Position;
  /** Only events of this stream. */
  streamId?: string;
  /** Only events of these types. */
  types?: readonly string[];
}>;

/**
 * The append-only log: what command handlers, projections and subscriptions
 * read and write. Every adapter passes test/stores/event-store.contract.ts.
 */
export interface EventLog {
  /** Atomic: all events, claims, releases and the idempotency record, or nothing. */
  append(request: AppendRequest): Promise<Result<Appended, AppendConflict>>;
  readStream(streamId: string): Promise<StreamSlice>;
  /** The stream's events from `fromVersion` on, in version order, at most `limit` of them. */
  readStreamFrom(streamId: string, options: ReadStreamFromOptions): Promise<readonly StoredEvent[]>;
  /** Events after a position in global order, at most `limit` of them. */
  readAll(options: ReadAllOptions): Promise<readonly StoredEvent[]>;
  /**
   * At most `limit` events strictly between the bounds, nearest the starting
   * bound first: ascending forward, descending backward. Sees what `readAll`
   * sees (never an event a tailing reader could still find appearing behind
   * it), so a page's last position is a safe `after` for a subscription.
   */
  readPage(options: ReadPageOptions): Promise<readonly StoredEvent[]>;
  /** Position of the newest event visible to readers; `LOG_START` when empty. */
  headPosition(): Promise<Position>;
  /**
   * Position of the newest committed event, visible to readers yet or not.
   * They differ on PostgreSQL, where an event committed while an older
   * transaction still runs is held back from reads until that one ends. A
   * reader that must see everything committed before it began (a rebuild)
   * reads until it has passed this.
   */
  lastCommittedPosition(): Promise<Position>;
  /**
   * Wake-up signal after appends become visible (possibly from other
   * processes, for stores that can tell). Carries no events: readers go back
   * to the store, which stays the source of truth.
   */
  onAppended(listener: () => void): () => void;
  /** True for `LOG_START` and for the position of a stored event: a client's `after` must be one of these. */
  isEventPosition(position: Position): Promise<boolean>;
}

/**
 * How long an idempotency record answers for its key. A record older than
 * `windowMs` is expired: it counts as absent at once (before any pruning), so
 * the key is free for a new request. Measured on `clock`, which stamps records too.
 */
export type IdempotencyRetention = Readonly<{ windowMs: number; clock: () => Date }>;

/** 24 hours, as the payment APIs that made idempotency keys common keep theirs. */
export const DEFAULT_IDEMPOTENCY_RETENTION: IdempotencyRetention = { windowMs: 24 * 60 * 60 * 1000, clock: () => new Date() };

/**
 * Outcomes remembered under idempotency keys for the retention window; the
 * idempotency step on the command bus is their only reader. An expired record
 * is never returned and never blocks its key (an append under it replaces it).
 */
export interface IdempotencyRecords {
  getIdempotencyRecord(key: string): Promise<IdempotencyRecord | null>;
  /** Stores the record unless an unexpired one holds the key; returns the record that is stored now. */
  saveIdempotencyRecord(record: IdempotencyRecord): Promise<IdempotencyRecord>;
  /**
   * Deletes at most `limit` expired records, oldest first, in one short write;
   * returns how many. Safe to run from several instances at once.
   */
  pruneExpiredIdempotencyRecords(limit: number): Promise<number>;
  /** When the oldest stored record (expired or not) was recorded; null when there is none. */
  oldestIdempotencyRecordAt(): Promise<Date | null>;
}

/** A subject's data key as stored: sealed under the master key, or destroyed (crypto-shredded). */
export type StoredDataKey = Uint8Array | 'destroyed';

/** What the store records about the master key its data keys are sealed under. */
export type KeyCheck = Readonly<{
  /** `keyIdOf` the master key: named in the refusal when another key is given. */
  keyId: string;
  /** A constant sealed under the master key: it opens only with that key. */
  check: Uint8Array;
  /**
   * True when every event with personal fields is sealed: set when the check
   * is first written to a store without events (or, later, by the migration
   * that seals an older store's events in place). `serve` refuses a store
   * without it.
   */
  eventsSealed: boolean;
}>;

/** Per-subject data keys (src/kernel/personal-data.ts), kept beside the log in every store. */
export interface DataKeys {
  /**
   * The stored keys of these subjects; a subject without a row is absent from the map. Always the
   * current rows: an adapter may keep keys in memory only where no other process can destroy them.
   */
  readDataKeys(subjects: readonly string[]): Promise<Map<string, StoredDataKey>>;
  /**
   * The stored key check; when there is none yet, stores `proposed` first
   * (`eventsSealed` only if the log has no events, decided in the same
   * transaction). Returns what is stored now.
   */
  ensureKeyCheck(proposed: Omit<KeyCheck, 'eventsSealed'>): Promise<KeyCheck>;
}

/** How a store's positions look to clients (event positions, cursors, checkpoints in /health). */
export interface PositionCodec {
  /** Reads a client-supplied position, or says why it is not a position of this store. */
  parsePosition(text: string): Result<Position, string>;
  /** The opaque string clients see, tagged with the kind of store that made it. */
  formatPosition(position: Position): string;
  /**
   * Roughly how many events lie after `from` up to and including `to`; for
   * lag and progress reports, never for correctness.
   */
  estimateEventsBetween(from: Position, to: Position): number;
}

/** Everything one store adapter provides; callers take the role they use. */
export interface EventStore extends EventLog, IdempotencyRecords, PositionCodec, DataKeys {
  close(): Promise<void>;
}
