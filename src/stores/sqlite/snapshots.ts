import type { Snapshot, SnapshotStore, StreamBound } from '../../kernel/snapshots.js';
import { newestSnapshotQueries, SNAPSHOT_COLUMNS, snapshotOf, type SnapshotRow } from '../snapshot-rows.js';
import { closeSqlite, migrate, openSqlite, type Durability, type Migration } from './database.js';
import { isDamage, setAside } from './integrity.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'snapshots of folded streams',
    // One index per kind of bound: "the newest snapshot at or before X" is one seek for each.
    up: (db) =>
      db.exec(`
        CREATE TABLE snapshots (
          stream_id TEXT    NOT NULL,
          fold      TEXT    NOT NULL,
          version   INTEGER NOT NULL,
          position  TEXT    NOT NULL,
          time      TEXT    NOT NULL,
          state     TEXT    NOT NULL,
          PRIMARY KEY (stream_id, fold, version)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX snapshots_by_position ON snapshots (stream_id, fold, position, version);
        CREATE INDEX snapshots_by_time ON snapshots (stream_id, fold, time, version);
      `),
  },
];

const NEWEST = newestSnapshotQueries(() => '?');

/**
 * Snapshots in their own file beside events.db (snapshots.db): a cache with
 * a writer of its own, so writing one never waits for the event log's lock,
 * and deleting the file loses nothing.
 */
export function createSqliteSnapshotStore(options: Readonly<{ path: string; durability?: Durability }>): SnapshotStore {
  const db = openSqlite(options.path, { durability: options.durability ?? 'process' });
  migrate(db, 'snapshots', migrations);
  const newest = {
    none: db.prepare<[string, string], SnapshotRow>(NEWEST.none),
    version: db.prepare<[string, string, number], SnapshotRow>(NEWEST.version),
    position: db.prepare<[string, string, string], SnapshotRow>(NEWEST.position),
    time: db.prepare<[string, string, string], SnapshotRow>(NEWEST.time),
  };
  const upsert = db.prepare(`INSERT OR REPLACE INTO snapshots (${SNAPSHOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`);
  const saveAll = db.transaction((snapshots: readonly Snapshot[]) => {
    for (const s of snapshots) upsert.run(s.streamId, s.fold, s.version, s.position, s.time, JSON.stringify(s.state));
  });
  const find = (streamId: string, fold: string, bound: StreamBound | undefined): SnapshotRow | undefined => {
    if (bound === undefined) return newest.none.get(streamId, fold);
    switch (bound.type) {
      case 'version':
        return newest.version.get(streamId, fold, bound.version);
      case 'position':
        return newest.position.get(streamId, fold, bound.position);
      case 'time':
        return newest.time.get(streamId, fold, bound.time);
    }
  };
  return {
    saveSnapshots: async (snapshots) => void saveAll.immediate(snapshots),
    loadSnapshot: async (streamId, fold, bound) => {
      const row = find(streamId, fold, bound);
      return row ? snapshotOf(row) : null;
    },
    deleteSnapshots: async () => void db.prepare('DELETE FROM snapshots').run(),
    close: async () => closeSqlite(db),
  };
}

export type SnapshotsSetAside = Readonly<{ file: string; movedTo: string; reason: string }>;

/**
 * The snapshot store of a data directory. A damaged snapshots.db never keeps
 * the server from starting: it only ever held a cache, so it is set aside
 * (kept for a look, like a damaged read.db) and a fresh one started.
 */
export function openSqliteSnapshotCache(
  options: Readonly<{ path: string; durability?: Durability; report: (setAside: SnapshotsSetAside) => void }>,
): SnapshotStore {
  const { report, ...open } = options;
  try {
    return createSqliteSnapshotStore(open);
  } catch (error) {
    if (!isDamage(error)) throw error;
    report({ file: open.path, movedTo: setAside(open.path), reason: error.message });
    return createSqliteSnapshotStore(open);
  }
}
