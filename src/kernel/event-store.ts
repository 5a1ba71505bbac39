import type { Event, EventMetadata, StoredEvent } from './messages.js';
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
}>;

export type Appended = Readonly<{
  streamId: string;
  /** The stream version after the append. */
  version: number;
  /** Global position of the last appended event. */
  position: number;
  events: readonly StoredEvent[];
}>;

export type AppendConflict =
  | Readonly<{ type: 'StreamVersionConflict'; streamId: string; expectedVersion: number; actualVersion: number }>
  | Readonly<{ type: 'UniqueValueTaken'; scope: string; value: string; ownerStreamId: string }>
  | Readonly<{ type: 'IdempotencyKeyTaken'; key: string }>;

export type StreamSlice = Readonly<{ version: number; events: readonly StoredEvent[] }>;

export type ReadAllOptions = Readonly<{
  /** Exclusive lower bound; 0 reads from the beginning. */
  after: number;
  limit: number;
  /** Only events of this stream (still in global order). */
  streamId?: string;
}>;

/**
 * The append-only log. Every adapter (SQLite, PostgreSQL) passes the same
 * conformance suite in test/stores/event-store.contract.ts.
 */
export interface EventStore {
  /** Atomic: all events, claims, releases and the idempotency record, or nothing. */
  append(request: AppendRequest): Promise<Result<Appended, AppendConflict>>;
  readStream(streamId: string): Promise<StreamSlice>;
  /** Events after a position in global order, at most `limit` of them. */
  readAll(options: ReadAllOptions): Promise<readonly StoredEvent[]>;
  /** Position of the newest event visible to readers; 0 when empty. */
  headPosition(): Promise<number>;
  getIdempotencyRecord(key: string): Promise<IdempotencyRecord | null>;
  /** Stores the record unless the key exists; returns the record that is stored now. */
  saveIdempotencyRecord(record: IdempotencyRecord): Promise<IdempotencyRecord>;
  /**
   * Wake-up signal after appends become visible (possibly from other
   * processes, for stores that can tell). Carries no events: readers go back
   * to the store, which stays the source of truth.
   */
  onAppended(listener: (headPosition: number) => void): () => void;
  /** Parses a client-supplied position; null when the text is not a position of this store. */
  parsePosition(text: string): number | null;
  formatPosition(position: number): string;
  close(): Promise<void>;
}
