import type { IdempotencyRecord, IdempotencyRecords, IdempotencyRetention } from '../../kernel/event-store.js';
import type { PgClient, PgMigration, PgPool } from './database.js';

/**
 * Version 7 of the event store's schema (beside src/stores/postgres/event-store-schema.ts):
 * the pruner finds expired records oldest first by this index instead of scanning the table.
 * Built inside the migration's transaction (CONCURRENTLY cannot be), so appends wait for it
 * once, at the upgrade; the table holds one retention window of records.
 */
export const idempotencyRecordsByAge: PgMigration = {
  version: 7,
  description: 'idempotency records by age, for pruning expired ones',
  sql: 'CREATE INDEX IF NOT EXISTS idempotency_records_recorded_at ON idempotency_records (recorded_at)',
};

export type PostgresIdempotencyRecords = IdempotencyRecords &
  Readonly<{
    /**
     * Writes a keyed append's record in its transaction, replacing an expired one;
     * false when a live record holds the key (a concurrent twin committed first).
     */
    recordInAppend: (client: PgClient, record: IdempotencyRecord) => Promise<boolean>;
    /**
     * After the append function refused the key: deletes the key's record if it has
     * expired, and says whether the key is free now (no live record holds it).
     */
    freeExpiredKey: (key: string) => Promise<boolean>;
  }>;

/**
 * Records stamped and judged by the retention clock (the application's, not the
 * database server's, so every store expires alike and tests can move time).
 * Expiry is judged in the queries: an expired row counts as absent before it is pruned.
 */
export function createPostgresIdempotencyRecords(pool: PgPool, { windowMs, clock }: IdempotencyRetention): PostgresIdempotencyRecords {
  const cutoff = () => new Date(clock().getTime() - windowMs);
  const readRecord = async (key: string): Promise<IdempotencyRecord | null> => {
    const { rows } = await pool.query<{ key: string; request_hash: string; outcome: unknown }>(
      'SELECT key, request_hash, outcome FROM idempotency_records WHERE key = $1 AND recorded_at >= $2',
      [key, cutoff()],
    );
    const row = rows[0];
    return row ? { key: row.key, requestHash: row.request_hash, outcome: row.outcome } : null;
  };
  // Replaces only an expired record: a live one keeps its key (and a concurrent insert is waited for).
  const upsert = async (client: PgClient | PgPool, record: IdempotencyRecord) =>
    (
      await client.query(
        `INSERT INTO idempotency_records (key, request_hash, outcome, recorded_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, outcome = excluded.outcome, recorded_at = excluded.recorded_at
           WHERE idempotency_records.recorded_at < $5`,
        [record.key, record.requestHash, JSON.stringify(record.outcome), clock(), cutoff()],
      )
    ).rowCount === 1;
  return {
    getIdempotencyRecord: readRecord,
    saveIdempotencyRecord: async (record) => {
      await upsert(pool, record);
      return (await readRecord(record.key))!;
    },
    // SKIP LOCKED: instances pruning at once take different rows, and none waits on a row an append is replacing.
    pruneExpiredIdempotencyRecords: async (limit) =>
      (
        await pool.query(
          `DELETE FROM idempotency_records WHERE key IN (
             SELECT key FROM idempotency_records WHERE recorded_at < $1 ORDER BY recorded_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [cutoff(), limit],
        )
      ).rowCount ?? 0,
    oldestIdempotencyRecordAt: async () =>
      (await pool.query<{ oldest: Date | null }>('SELECT min(recorded_at) AS oldest FROM idempotency_records')).rows[0]?.oldest ?? null,
    recordInAppend: upsert,
    // The outer SELECT sees the rows as they were before the DELETE: a live record there keeps the key taken.
    freeExpiredKey: async (key) => {
      const { rows } = await pool.query<{ free: boolean }>(
        `WITH expired AS (DELETE FROM idempotency_records WHERE key = $1 AND recorded_at < $2 RETURNING key)
         SELECT NOT EXISTS (SELECT 1 FROM idempotency_records WHERE key = $1 AND recorded_at >= $2) AS free`,
        [key, cutoff()],
      );
      return rows[0]?.free ?? false;
    },
  };
}
