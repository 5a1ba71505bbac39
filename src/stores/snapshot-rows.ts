import type { Position } from '../kernel/position.js';
import type { Snapshot } from '../kernel/snapshots.js';

/** A snapshot as the SQL adapters store it: one row per (stream, fold, version), the state as JSON text. */
export type SnapshotRow = { stream_id: string; fold: string; version: number; position: string; time: string; state: string };

export const SNAPSHOT_COLUMNS = 'stream_id, fold, version, position, time, state';

/**
 * The newest snapshot of a stream's fold, unbounded or at or before a
 * version, position or time; `param(n)` writes the nth parameter in the
 * driver's syntax (`?` or `$n`). Ties on position or time go to the higher version.
 */
export function newestSnapshotQueries(param: (n: 1 | 2 | 3) => string) {
  const of = `SELECT ${SNAPSHOT_COLUMNS} FROM snapshots WHERE stream_id = ${param(1)} AND fold = ${param(2)}`;
  return {
    none: `${of} ORDER BY version DESC LIMIT 1`,
    version: `${of} AND version <= ${param(3)} ORDER BY version DESC LIMIT 1`,
    position: `${of} AND position <= ${param(3)} ORDER BY position DESC, version DESC LIMIT 1`,
    time: `${of} AND time <= ${param(3)} ORDER BY time DESC, version DESC LIMIT 1`,
  } as const;
}

/** A row as a snapshot; damaged JSON throws, which the reader takes as "no snapshot". */
export const snapshotOf = (row: SnapshotRow): Snapshot => ({
  streamId: row.stream_id,
  fold: row.fold,
  version: row.version,
  position: row.position as Position,
  time: row.time,
  state: JSON.parse(row.state) as unknown,
});
