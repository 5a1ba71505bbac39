import { randomUUID } from 'node:crypto';
import type { RebuildRequests, RequestStatus } from '../../kernel/rebuild-requests.js';
import { migrate, type PgMigration, type PgPool } from './database.js';
import type { NotificationListener } from './notifications.js';

export const BUILD_REQUESTS_CHANNEL = 'cqrs_build_requests';

const migrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'rebuild requests of `npm run rebuild`, and their progress',
    sql: `CREATE TABLE projection_build_requests (
            id                text PRIMARY KEY,
            name              text NOT NULL,
            requested_at      timestamptz NOT NULL DEFAULT now(),
            taken_at          timestamptz,
            updated_at        timestamptz NOT NULL DEFAULT now(),
            state             text NOT NULL DEFAULT 'waiting',
            applied           bigint NOT NULL DEFAULT 0,
            total             bigint NOT NULL DEFAULT 0,
            position          text NOT NULL DEFAULT '0',
            head              text NOT NULL DEFAULT '0',
            events_per_second double precision NOT NULL DEFAULT 0,
            error             text
          )`,
  },
];

export async function preparePostgresRebuildRequests(pool: PgPool): Promise<void> {
  await migrate(pool, 'projection-build-requests', migrations);
}

/**
 * `npm run rebuild` beside running instances on PostgreSQL: a row in
 * `projection_build_requests` and a NOTIFY. Every instance LISTENs (and looks
 * every poll interval, in case a notification was missed); only the one
 * holding the projection's lease takes the row (an UPDATE of rows not yet
 * taken: one taker), builds, and writes its progress to the row, which the
 * command polls.
 */
export function createPostgresRebuildRequests(pool: PgPool, notifications?: NotificationListener): RebuildRequests {
  const listeners = new Set<() => void>();
  let stopListening: Promise<() => void> | undefined;
  return {
    take: async (names) => {
      const { rows } = await pool.query<{ id: string; name: string }>(
        `UPDATE projection_build_requests SET taken_at = now(), updated_at = now()
          WHERE taken_at IS NULL AND name = ANY($1::text[]) RETURNING id, name`,
        [names],
      );
      return rows;
    },
    report: async (ids, status) => {
      await pool.query(
        `UPDATE projection_build_requests
            SET updated_at = now(), state = $2, applied = $3, total = $4, position = $5, head = $6, events_per_second = $7, error = $8
          WHERE id = ANY($1::text[])`,
        [ids, status.state, status.applied, status.total, status.position, status.head, status.eventsPerSecond, status.error],
      );
    },
    onRequest: (listener) => {
      listeners.add(listener);
      stopListening ??= notifications?.listen(BUILD_REQUESTS_CHANNEL, () => {
        for (const each of listeners) each();
      });
      return () => listeners.delete(listener);
    },
    request: async (name) => {
      const id = randomUUID();
      // Requests are kept for a day, for a look at what was asked; the command deletes its own when done.
      await pool.query(
        `WITH pruned AS (DELETE FROM projection_build_requests WHERE requested_at < now() - interval '1 day'),
              added AS (INSERT INTO projection_build_requests (id, name) VALUES ($1, $2) RETURNING 1)
         SELECT pg_notify($3, $2) FROM added`,
        [id, name, BUILD_REQUESTS_CHANNEL],
      );
      return id;
    },
    status: async (id) => {
      const { rows } = await pool.query<{
        state: RequestStatus['state'];
        applied: string;
        total: string;
        position: string;
        head: string;
        events_per_second: number;
        error: string | null;
      }>('SELECT state, applied, total, position, head, events_per_second, error FROM projection_build_requests WHERE id = $1 AND taken_at IS NOT NULL', [id]);
      const row = rows[0];
      if (!row) return null;
      return {
        state: row.state,
        applied: Number(row.applied),
        total: Number(row.total),
        position: row.position,
        head: row.head,
        eventsPerSecond: row.events_per_second,
        error: row.error,
      };
    },
    withdraw: async (id) => {
      await pool.query('DELETE FROM projection_build_requests WHERE id = $1', [id]);
    },
    close: async () => {
      (await stopListening)?.();
    },
  };
}
