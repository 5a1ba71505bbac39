import type { SnapshotStore, StreamBound } from '../../kernel/snapshots.js';
import { newestSnapshotQueries, SNAPSHOT_COLUMNS, snapshotOf, type SnapshotRow } from '../snapshot-rows.js';
import { migrate, type PgMigration, type PgPool } from './database.js';

const migrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'snapshots of folded streams',
    // Positions and times are fixed-width text: compared byte by byte (COLLATE "C"), text order is
    // their order. One index per kind of bound, so each lookup is one index seek.
    sql: `
      CREATE TABLE snapshots (
        stream_id text    NOT NULL,
        fold      text    NOT NULL,
        version   integer NOT NULL,
        position  text    COLLATE "C" NOT NULL,
        time      text    COLLATE "C" NOT NULL,
        state     text    NOT NULL,
        PRIMARY KEY (stream_id, fold, version)
      );
      CREATE INDEX snapshots_by_position ON snapshots (stream_id, fold, position, version);
      CREATE INDEX snapshots_by_time ON snapshots (stream_id, fold, time, version);`,
  },
];

const NEWEST = newestSnapshotQueries((n) => `$${n}`);

/**
 * Snapshots in a table of the event store's database. The state is kept as
 * text, not jsonb: it is only ever read back whole, and text keeps it as written.
 */
export async function createPostgresSnapshotStore(pool: PgPool): Promise<SnapshotStore> {
  await migrate(pool, 'snapshots', migrations);
  const find = (streamId: string, fold: string, bound: StreamBound | undefined) => {
    if (bound === undefined) return pool.query<SnapshotRow>({ name: 'cqrs_snapshot', text: NEWEST.none, values: [streamId, fold] });
    const value = bound.type === 'version' ? bound.version : bound.type === 'position' ? bound.position : bound.time;
    return pool.query<SnapshotRow>({ name: `cqrs_snapshot_by_${bound.type}`, text: NEWEST[bound.type], values: [streamId, fold, value] });
  };
  return {
    saveSnapshots: async (snapshots) => {
      if (snapshots.length === 0) return;
      await pool.query(
        `INSERT INTO snapshots (${SNAPSHOT_COLUMNS})
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (stream_id, fold, version) DO UPDATE
           SET position = excluded.position, time = excluded.time, state = excluded.state`,
        [
          snapshots.map((s) => s.streamId),
          snapshots.map((s) => s.fold),
          snapshots.map((s) => s.version),
          snapshots.map((s) => s.position),
          snapshots.map((s) => s.time),
          snapshots.map((s) => JSON.stringify(s.state)),
        ],
      );
    },
    loadSnapshot: async (streamId, fold, bound) => {
      const { rows } = await find(streamId, fold, bound);
      return rows[0] ? snapshotOf(rows[0]) : null;
    },
    deleteSnapshots: async () => void (await pool.query('DELETE FROM snapshots')),
    // The pool is the storage's: it closes it.
    close: async () => {},
  };
}
