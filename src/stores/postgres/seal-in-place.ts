import type { StoredDataKey } from '../../kernel/event-store.js';
import { PlaintextAppendedMeanwhile, type SealInPlaceStore } from '../../kernel/seal-in-place.js';
import type { PgClient } from './database.js';

/** Where a batch ends in log order: (transaction id, sequence), the events table's primary key, as text. */
export type PgCursor = Readonly<{ transactionId: string; position: string }>;

/**
 * `npm run migrate`'s sealing (src/kernel/seal-in-place.ts) on PostgreSQL:
 * the one place where stored events are rewritten. All on one session,
 * which holds an advisory lock for the whole run (src/main.ts), so two
 * `migrate` runs never seal the same stream under two new keys.
 */
export function postgresSealInPlace(
  client: PgClient,
  fieldsOf: ReadonlyMap<string, readonly string[]>,
  erasingTypes: ReadonlySet<string>,
): SealInPlaceStore<PgCursor> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [type, fields] of fieldsOf) {
    params.push(type, fields);
    clauses.push(`(type = $${params.length - 1} AND data ?| $${params.length}::text[])`);
  }
  const unsealed = clauses.length === 0 ? 'false' : `(${clauses.join(' OR ')})`;
  const countUnsealed = async () =>
    (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE ${unsealed}`, params)).rows[0]!.n;
  const n = params.length;

  const inTransaction = async <T>(work: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  return {
    eventsSealed: async () =>
      (await client.query<{ events_sealed: boolean }>('SELECT events_sealed FROM master_key_check WHERE id = 1')).rows[0]?.events_sealed === true,
    countUnsealed,
    sealBatch: (after, limit, rewrite) =>
      inTransaction(async () => {
        const { rows } = await client.query<{ transaction_id: string; position: string; stream_id: string; type: string; data: Record<string, unknown> }>(
          `SELECT transaction_id::text, position::text, stream_id, type, data FROM events
            WHERE (transaction_id, position) > ($${n + 1}::xid8, $${n + 2}::bigint) AND ${unsealed}
            ORDER BY events.transaction_id, events.position LIMIT $${n + 3}`,
          [...params, after?.transactionId ?? '0', after?.position ?? '0', limit],
        );
        if (rows.length === 0) return null;
        const events = rows.map((row) => ({
          cursor: { transactionId: row.transaction_id, position: row.position },
          streamId: row.stream_id,
          type: row.type,
          data: row.data,
        }));
        const streams = [...new Set(events.map((e) => e.streamId))];
        // A stream erased before its events were sealed has no key: it gets the tombstone its erasure would have left.
        await client.query(
          `INSERT INTO data_keys (subject, wrapped, destroyed_at)
           SELECT DISTINCT stream_id, NULL::bytea, now() FROM events WHERE stream_id = ANY($1::text[]) AND type = ANY($2::text[])
           ON CONFLICT (subject) DO NOTHING`,
          [streams, [...erasingTypes]],
        );
        const stored = await client.query<{ subject: string; wrapped: Buffer | null }>('SELECT subject, wrapped FROM data_keys WHERE subject = ANY($1::text[])', [
          streams,
        ]);
        const keys = new Map<string, StoredDataKey>(stored.rows.map(({ subject, wrapped }) => [subject, wrapped === null ? 'destroyed' : new Uint8Array(wrapped)]));
        const rewritten = rewrite(events, keys);
        if (rewritten.newKeys.length > 0) {
          await client.query('INSERT INTO data_keys (subject, wrapped) SELECT * FROM unnest($1::text[], $2::bytea[])', [
            rewritten.newKeys.map((k) => k.subject),
            rewritten.newKeys.map((k) => Buffer.from(k.wrapped)),
          ]);
        }
        // Only `data` changes: transaction_id and position are columns of their own, kept by an UPDATE.
        await client.query(
          `UPDATE events e SET data = u.data FROM unnest($1::text[], $2::bigint[], $3::jsonb[]) AS u(transaction_id, position, data)
            WHERE e.transaction_id = u.transaction_id::xid8 AND e.position = u.position`,
          [
            rewritten.events.map((e) => e.cursor.transactionId),
            rewritten.events.map((e) => e.cursor.position),
            rewritten.events.map((e) => JSON.stringify(e.data)),
          ],
        );
        const last = rows[rows.length - 1]!;
        return { last: { transactionId: last.transaction_id, position: last.position }, sealed: rewritten.events.length };
      }),
    finish: ({ hashClaim, personalFieldNames }) =>
      inTransaction(async () => {
        // Appends (an older release's server still running) wait until the marker is set; none slips in between.
        await client.query('LOCK TABLE events, unique_values IN SHARE ROW EXCLUSIVE MODE');
        const left = await countUnsealed();
        if (left > 0) throw new PlaintextAppendedMeanwhile(left);
        // The marker is unset, so every claim was made in plaintext (a sealed store's server would have hashed it).
        const { rows: claims } = await client.query<{ scope: string; value: string }>('SELECT scope, value FROM unique_values');
        await client.query(
          `UPDATE unique_values u SET value = c.hashed FROM unnest($1::text[], $2::text[], $3::text[]) AS c(scope, value, hashed)
            WHERE u.scope = c.scope AND u.value = c.value`,
          [claims.map((c) => c.scope), claims.map((c) => c.value), claims.map((c) => hashClaim(c))],
        );
        const outcomes = await client.query(
          `UPDATE idempotency_records SET outcome = jsonb_set(outcome, '{error}', (outcome -> 'error') - $1::text[])
            WHERE jsonb_typeof(outcome -> 'error') = 'object' AND (outcome -> 'error') ?| $1::text[]`,
          [personalFieldNames],
        );
        const snapshots = await client.query('DELETE FROM snapshots');
        await client.query('UPDATE master_key_check SET events_sealed = true WHERE id = 1');
        return { claims: claims.length, outcomes: outcomes.rowCount ?? 0, snapshots: snapshots.rowCount ?? 0 };
      }),
  };
}
