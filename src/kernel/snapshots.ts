import type { Position } from './position.js';

/**
 * A stream folded up to one version, kept so that reading the stream later
 * starts there instead of at its first event. Only ever a cache: every
 * reader checks a snapshot against the stream and folds from the start when
 * it is missing, damaged or does not match, so deleting every snapshot
 * changes no answer, only how many events are read.
 */
export type Snapshot = Readonly<{
  streamId: string;
  /**
   * The fold that made `state`, with a revision (`user-view@1`): a fold whose
   * state changes shape or meaning takes a new name, so it never reads the
   * snapshots of its older self.
   */
  fold: string;
  /** The stream version folded up to (its events 1..version). */
  version: number;
  /**
   * The latest position among the folded events. On PostgreSQL log order and
   * version order can differ within a stream, so this is a running maximum,
   * not the position of event `version`.
   */
  position: Position;
  /** The latest `occurredAt` among the folded events (ISO 8601, UTC), a running maximum for the same reason. */
  time: string;
  /** JSON-serialisable. */
  state: unknown;
}>;

/**
 * How far into a stream a reader wants to go: up to a version, or through
 * the events up to the first one after a position or a time. All three only
 * grow along a stream's snapshots (position and time are running maxima).
 */
export type StreamBound =
  | Readonly<{ type: 'version'; version: number }>
  | Readonly<{ type: 'position'; position: Position }>
  | Readonly<{ type: 'time'; time: string }>;

/** Where snapshots are kept; every adapter passes test/stores/snapshots.contract.ts. */
export interface SnapshotStore {
  /** Writes these snapshots, replacing any of the same stream, fold and version (a damaged one is healed this way). */
  saveSnapshots(snapshots: readonly Snapshot[]): Promise<void>;
  /** The stream's newest snapshot by this fold within the bound (the newest of all without one), or null. */
  loadSnapshot(streamId: string, fold: string, bound?: StreamBound): Promise<Snapshot | null>;
  /** Forgets every snapshot: answers stay the same, only reads get longer until they are written again. */
  deleteSnapshots(): Promise<void>;
  close(): Promise<void>;
}

/** Whether a snapshot lies within a bound: the same test every adapter runs in its query. */
export function snapshotWithin(snapshot: Pick<Snapshot, 'version' | 'position' | 'time'>, bound: StreamBound | undefined): boolean {
  if (bound === undefined) return true;
  switch (bound.type) {
    case 'version':
      return snapshot.version <= bound.version;
    case 'position':
      return snapshot.position <= bound.position;
    case 'time':
      return snapshot.time <= bound.time;
  }
}
