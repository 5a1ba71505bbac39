import type pg from 'pg';
import type { AppendConflict, AppendRequest, Appended, EventStore, IdempotencyRecord } from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START } from '../../kernel/position.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import { createAppendListeners } from '../append-listeners.js';
import { START_TEXT, tagPosition, untagPosition } from '../position-text.js';
import { inTransaction, migrate, type PgClient, type PgMigration, type PgPool } from './database.js';
import { createNotificationListener, type NotificationListener } from './notifications.js';
import { pgPosition, pgPositionParts } from './position.js';

export const EVENTS_CHANNEL = 'cqrs_events';

const migrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'events ordered by writing transaction, unique values, idempotency records',
    sql: `
      CREATE TABLE events (
        transaction_id xid8    NOT NULL DEFAULT pg_current_xact_id(),
        position       bigint  GENERATED ALWAYS AS IDENTITY,
        stream_id      text    NOT NULL,
        stream_version integer NOT NULL,
        type           text    NOT NULL,
        schema_version integer NOT NULL,
        data           jsonb   NOT NULL,
        metadata       jsonb   NOT NULL,
        PRIMARY KEY (transaction_id, position),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      );
      CREATE TABLE unique_values (
        scope     text NOT NULL,
        value     text NOT NULL,
        stream_id text NOT NULL,
        PRIMARY KEY (scope, value)
      );
      CREATE TABLE idempotency_records (
        key          text        PRIMARY KEY,
        request_hash text        NOT NULL,
        outcome      jsonb       NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now()
      );`,
  },
];

type EventRow = {
  transaction_id: string;
  position: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: object;
  metadata: StoredEvent['metadata'];
};

// The text casts keep their column names, and ORDER BY prefers output names: order by the
// qualified `events.` columns, or xid 1000 would sort before xid 999.
const COLUMNS = 'transaction_id::text, position::text, stream_id, stream_version, type, schema_version, data, metadata';

/**
 * Only transactions below the oldest one still running can no longer add
 * events in front of what a reader has seen: a sequence value taken earlier
 * may commit later. Reading below this horizon and ordering by (transaction
 * id, sequence) is what keeps tailing readers from skipping events.
 */
const BELOW_HORIZON = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

const toStoredEvent = (row: EventRow): StoredEvent => ({
  position: pgPosition(row.transaction_id, row.position),
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  type: row.type,
  schemaVersion: row.schema_version,
  data: row.data,
  metadata: row.metadata,
});

/** Thrown inside the append transaction to roll it back; never escapes this module. */
class Rollback {
  constructor(readonly conflict: AppendConflict) {}
}

const UNIQUE_VIOLATION = '23505';
const DEADLOCK = '40P01';
const SEQUENCE_DIGITS = /^(0|[1-9][0-9]{0,18})$/;
const TRANSACTION_DIGITS = /^(0|[1-9][0-9]{0,19})$/;
/** How soon to look again when committed events wait behind a running transaction. */
const HORIZON_RECHECK_MS = 5;

export type PostgresEventStoreOptions = Readonly<{ pool: PgPool; connectionString: string }>;

export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const { pool } = options;
  await migrate(pool, 'event-store', migrations);
  const listeners = createAppendListeners();
  const notify = listeners.notify;
  // Appends by any instance (including this one) arrive here after their commit.
  const channel: NotificationListener = await createNotificationListener(options.connectionString, [EVENTS_CHANNEL], notify);

  // Events that committed behind a still-running transaction become readable when it ends, which
  // sends no notification if it aborts or writes no events (a projection's own transaction, say).
  let recheck: NodeJS.Timeout | undefined;
  const recheckSoonIfHeldBack = async () => {
    if (recheck || listeners.size === 0) return;
    const { rowCount } = await pool.query(`SELECT 1 FROM events WHERE NOT (${BELOW_HORIZON}) LIMIT 1`);
    if (rowCount && !recheck) {
      recheck = setTimeout(() => {
        recheck = undefined;
        notify();
      }, HORIZON_RECHECK_MS);
    }
  };

  const readRecord = async (key: string): Promise<IdempotencyRecord | null> => {
    const { rows } = await pool.query<{ key: string; request_hash: string; outcome: unknown }>(
      'SELECT key, request_hash, outcome FROM idempotency_records WHERE key = $1',
      [key],
    );
    const row = rows[0];
    return row ? { key: row.key, requestHash: row.request_hash, outcome: row.outcome } : null;
  };

  const streamVersion = async (client: pg.ClientBase | PgPool, streamId: string) =>
    (await client.query<{ version: number | null }>('SELECT max(stream_version) AS version FROM events WHERE stream_id = $1', [streamId]))
      .rows[0]?.version ?? 0;

  const appendInTransaction = async (client: PgClient, request: AppendRequest): Promise<Appended> => {
    const { streamId, expectedVersion } = request;
    const actualVersion = await streamVersion(client, streamId);
    if (actualVersion !== expectedVersion) {
      throw new Rollback({ type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion });
    }
    if (request.idempotency) {
      const taken = await client.query('SELECT 1 FROM idempotency_records WHERE key = $1', [request.idempotency.key]);
      if (taken.rowCount) throw new Rollback({ type: 'IdempotencyKeyTaken', key: request.idempotency.key });
    }
    for (const { scope, value } of request.releases ?? []) {
      await client.query('DELETE FROM unique_values WHERE scope = $1 AND value = $2 AND stream_id = $3', [scope, value, streamId]);
    }
    for (const { scope, value } of request.claims ?? []) {
      // Waits for a concurrent claimant to commit or roll back, then sees its outcome.
      await client.query('INSERT INTO unique_values (scope, value, stream_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        scope,
        value,
        streamId,
      ]);
      const { rows } = await client.query<{ stream_id: string }>('SELECT stream_id FROM unique_values WHERE scope = $1 AND value = $2', [
        scope,
        value,
      ]);
      const owner = rows[0]?.stream_id;
      if (owner !== undefined && owner !== streamId) throw new Rollback({ type: 'UniqueValueTaken', scope, value, ownerStreamId: owner });
    }
    const { rows } = await client.query<{ transaction_id: string; position: string }>(
      `INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata)
       SELECT $1, $2::integer + ordinality::integer, type, schema_version, data, metadata
         FROM unnest($3::text[], $4::integer[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS e(type, schema_version, data, metadata)
        ORDER BY ordinality
       RETURNING transaction_id::text, position::text`,
      [
        streamId,
        expectedVersion,
        request.events.map((e) => e.type),
        request.events.map((e) => e.schemaVersion ?? 1),
        request.events.map((e) => JSON.stringify(e.data)),
        request.events.map((e) => JSON.stringify(e.metadata)),
      ],
    );
    const sorted = [...rows].sort((a, b) => Number(BigInt(a.position) - BigInt(b.position)));
    const events: StoredEvent[] = request.events.map((event, index) => ({
      ...event,
      position: pgPosition(sorted[index]!.transaction_id, sorted[index]!.position),
      streamId,
      streamVersion: expectedVersion + index + 1,
      schemaVersion: event.schemaVersion ?? 1,
    }));
    const result: Appended = { streamId, version: expectedVersion + events.length, position: events.at(-1)!.position, events };
    if (request.idempotency) {
      const { key, requestHash, outcome } = request.idempotency;
      const stored = await client.query(
        'INSERT INTO idempotency_records (key, request_hash, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [key, requestHash, JSON.stringify(outcome(result))],
      );
      if (!stored.rowCount) throw new Rollback({ type: 'IdempotencyKeyTaken', key });
    }
    await client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, '']);
    return result;
  };

  const conflictAfterRollback = async (error: unknown, request: AppendRequest): Promise<AppendConflict | null> => {
    if (error instanceof Rollback) return error.conflict;
    const code = (error as { code?: string }).code;
    const constraint = (error as { constraint?: string }).constraint;
    // A concurrent append took the same stream version first; a deadlock between two
    // appends is resolved by PostgreSQL aborting one, which may simply try again.
    if ((code === UNIQUE_VIOLATION && constraint === 'events_stream_version_unique') || code === DEADLOCK) {
      const { streamId, expectedVersion } = request;
      return { type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion: await streamVersion(pool, streamId) };
    }
    return null;
  };

  const readAll = async (after: Parameters<EventStore['readAll']>[0]['after'], limit: number, streamId?: string) => {
    const { transactionId, sequence } = pgPositionParts(after);
    const params: unknown[] = [transactionId, sequence, limit];
    if (streamId !== undefined) params.push(streamId);
    const { rows } = await pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND ${BELOW_HORIZON}
              ${streamId === undefined ? '' : 'AND stream_id = $4'}
        ORDER BY events.transaction_id, events.position LIMIT $3`,
      params,
    );
    if (rows.length < limit) await recheckSoonIfHeldBack();
    return rows.map(toStoredEvent);
  };

  return {
    append: async (request) => {
      if (request.events.length === 0) throw new Error('append needs at least one event');
      let result: Result<Appended, AppendConflict>;
      try {
        result = ok(await inTransaction(pool, (client) => appendInTransaction(client, request)));
      } catch (error) {
        const conflict = await conflictAfterRollback(error, request);
        if (!conflict) throw error;
        return fail(conflict);
      }
      notify();
      return result;
    },
    readStream: async (streamId) => {
      const { rows } = await pool.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
      const events = rows.map(toStoredEvent);
      return { version: events.at(-1)?.streamVersion ?? 0, events };
    },
    readAll: ({ after, limit, streamId }) => readAll(after, limit, streamId),
    headPosition: async () => {
      const { rows } = await pool.query<{ transaction_id: string; position: string }>(
        `SELECT transaction_id::text, position::text FROM events WHERE ${BELOW_HORIZON}
          ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`,
      );
      const row = rows[0];
      return row ? pgPosition(row.transaction_id, row.position) : LOG_START;
    },
    isEventPosition: async (position) => {
      if (position === LOG_START) return true;
      const { transactionId, sequence } = pgPositionParts(position);
      const { rowCount } = await pool.query('SELECT 1 FROM events WHERE transaction_id = $1::xid8 AND position = $2::bigint', [
        transactionId,
        sequence,
      ]);
      return (rowCount ?? 0) > 0;
    },
    getIdempotencyRecord: readRecord,
    saveIdempotencyRecord: async (record) => {
      await pool.query('INSERT INTO idempotency_records (key, request_hash, outcome) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        record.key,
        record.requestHash,
        JSON.stringify(record.outcome),
      ]);
      return (await readRecord(record.key))!;
    },
    onAppended: listeners.subscribe,
    parsePosition: (text) => {
      if (text === START_TEXT) return ok(LOG_START);
      const body = untagPosition('pg', text);
      if (!body.ok) return body;
      const [transactionId, sequence, ...rest] = body.value.split('.');
      if (rest.length > 0 || !TRANSACTION_DIGITS.test(transactionId ?? '') || !SEQUENCE_DIGITS.test(sequence ?? '')) {
        return fail('is not a position of this event store');
      }
      return ok(pgPosition(transactionId!, sequence!));
    },
    formatPosition: (position) => {
      if (position === LOG_START) return START_TEXT;
      const { transactionId, sequence } = pgPositionParts(position);
      return tagPosition('pg', `${transactionId}.${sequence}`);
    },
    estimateEventsBetween: (from, to) => {
      if (to <= from) return 0;
      const gap = Number(BigInt(pgPositionParts(to).sequence) - BigInt(pgPositionParts(from).sequence));
      // Sequence values interleave across transactions, so a later position can carry a smaller one.
      return Math.max(gap, 1);
    },
    close: async () => {
      clearTimeout(recheck);
      listeners.clear();
      await channel.close();
    },
  };
}
