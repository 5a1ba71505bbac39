import {
  DEFAULT_IDEMPOTENCY_RETENTION,
  type AppendConflict,
  type AppendRequest,
  type Appended,
  type DataKeys,
  type EventLog,
  type EventStore,
  type IdempotencyRetention,
  type PositionCodec,
  type ReadPageOptions,
  type StoredDataKey,
  type StreamSlice,
} from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { fail, ok } from '../../kernel/result.js';
import pg from 'pg';
import { createAppendListeners } from '../append-listeners.js';
import { Rollback } from '../rollback.js';
import { START_TEXT, tagPosition, untagPosition } from '../position-text.js';
import { instanceNameOf, inTransaction, migrate, type PgClient, type PgPool } from './database.js';
import type { StreamCategory } from '../../kernel/stream-id.js';
import { categorisedStreams, dataKeysMigration, EVENTS_CHANNEL, eventStoreMigrations, IDEMPOTENCY_KEY_TAKEN } from './event-store-schema.js';
import { namedAppendNotifications } from './named-notifications.js';
import { createNotificationListener, type NotificationListener } from './notifications.js';
import { createPostgresIdempotencyRecords, idempotencyRecordsByAge, type PostgresIdempotencyRecords } from './idempotency-records.js';
import { appendBatch, appendedFrom, conflictOf, createGroupCommit, inLockOrderWithin, type AppendOutcome, type AppendedRow, type SettledAppend } from './group-commit.js';
import { pgPosition, pgPositionParts, type PgPositionParts } from './position.js';
import { batchPerTurn } from './turn-batch.js';

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

/**
 * Whether committed events wait above the horizon: then a reader must look
 * again soon, since the transaction holding them back may end without a
 * notification (a rollback, or a projection's own transaction). max() walks
 * the primary key from its end whatever the statistics say; the equivalent
 * `WHERE NOT (below horizon) LIMIT 1` can be planned as a scan of the whole
 * log on a table not analysed since it grew.
 */
const HELD_BACK = '(SELECT max(transaction_id) >= pg_snapshot_xmin(pg_current_snapshot()) FROM events)';

const toStoredEvent = (row: EventRow): StoredEvent => ({
  position: pgPosition(row.transaction_id, row.position),
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  type: row.type,
  schemaVersion: row.schema_version,
  data: row.data,
  metadata: row.metadata,
});

const UNIQUE_VIOLATION = '23505';
const DEADLOCK = '40P01';
const SEQUENCE_DIGITS = /^(0|[1-9][0-9]{0,18})$/;
const TRANSACTION_DIGITS = /^(0|[1-9][0-9]{0,19})$/;
// Under PostgreSQL's 64 cached subtransaction ids per backend (each append in a group is one).
const MAX_GROUP = 32;
const GROUPS_IN_FLIGHT = 2;
/** Subjects per shared data-key read: a rebuild asks for a batch of events' streams at once. */
const DATA_KEYS_PER_READ = 5_000;
const MAX_STREAMS_PER_READ = 100;
/** How soon to look again when committed events wait behind a running transaction. */
const HORIZON_RECHECK_MS = 5;

export type PostgresEventStoreOptions = Readonly<{
  pool: PgPool;
  connectionString: string;
  /** The instance's shared listening connection; without one the store opens (and closes) its own. */
  notifications?: NotificationListener;
  /** Where streams written before stream ids carried a category go (see src/stores/stream-categories.ts). */
  categoryOfOldStreams?: StreamCategory | undefined;
  /** @default DEFAULT_IDEMPOTENCY_RETENTION (24 hours, wall clock) */
  idempotencyRetention?: IdempotencyRetention;
}>;

/** The event store's schema, oldest migration first: spread over three files, applied as one list. */
export const postgresEventStoreMigrations = (categoryOfOldStreams: StreamCategory | undefined) => [
  ...eventStoreMigrations,
  categorisedStreams(categoryOfOldStreams),
  dataKeysMigration,
  idempotencyRecordsByAge,
  namedAppendNotifications,
];

export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const { pool } = options;
  await migrate(pool, 'event-store', postgresEventStoreMigrations(options.categoryOfOldStreams));
  const listeners = createAppendListeners();
  // Appends by any instance arrive here after their commit. This instance's own come back
  // named after its pool, and are skipped: it signalled them itself as each commit returned.
  // Anything else wakes: another instance's name, '' (an older build), a reconnect (undefined).
  const ownName = instanceNameOf(pool);
  const notifications = options.notifications ?? (await createNotificationListener(options.connectionString));
  const stopListening = await notifications.listen(EVENTS_CHANNEL, (payload) => {
    if (ownName === undefined || payload !== ownName) listeners.notify();
  });
  const horizon = createHorizonRecheck(pool, listeners.notify);
  const { recordInAppend, freeExpiredKey, ...records } = createPostgresIdempotencyRecords(
    pool,
    options.idempotencyRetention ?? DEFAULT_IDEMPOTENCY_RETENTION,
  );
  return {
    ...postgresEventLog(pool, listeners, horizon, { recordInAppend, freeExpiredKey }),
    ...records,
    ...postgresDataKeys(pool),
    ...postgresPositionCodec,
    close: async () => {
      horizon.cancel();
      listeners.clear();
      stopListening();
      if (!options.notifications) await notifications.close();
    },
  };
}

type AppendListeners = ReturnType<typeof createAppendListeners>;
type HorizonRecheck = ReturnType<typeof createHorizonRecheck>;

type KeyedRecords = Pick<PostgresIdempotencyRecords, 'recordInAppend' | 'freeExpiredKey'>;

function postgresEventLog(pool: PgPool, listeners: AppendListeners, horizon: HorizonRecheck, records: KeyedRecords): EventLog {
  const appendGrouped = createGroupedAppend(pool, listeners.notify);
  const streams = createStreamReader(pool);
  return {
    append: async (request) => {
      if (request.events.length === 0) throw new Error('append needs at least one event');
      // A keyed append writes its outcome, positions included, in its own transaction.
      const { idempotency } = request;
      return idempotency ? appendKeyed(pool, listeners.notify, { ...request, idempotency }, records) : appendGrouped(request);
    },
    readStream: (streamId) => streams.load(streamId),
    readStreamFrom: postgresReadStreamFrom(pool),
    readAll: ({ after, limit, streamId }) => readAll(pool, listeners, horizon, after, limit, streamId),
    readPage: (options) => readPage(pool, options),
    headPosition: () => newestPosition(pool, `WHERE ${BELOW_HORIZON}`),
    // Held-back events included: every row this snapshot sees is committed.
    lastCommittedPosition: () => newestPosition(pool, ''),
    isEventPosition: async (position) => {
      if (position === LOG_START) return true;
      const { transactionId, sequence } = pgPositionParts(position);
      const { rowCount } = await pool.query('SELECT 1 FROM events WHERE transaction_id = $1::xid8 AND position = $2::bigint', [
        transactionId,
        sequence,
      ]);
      return (rowCount ?? 0) > 0;
    },
    onAppended: listeners.subscribe,
  };
}

/** The position of the newest event that `where` admits; `LOG_START` when none. */
async function newestPosition(pool: PgPool, where: string): Promise<Position> {
  const { rows } = await pool.query<{ transaction_id: string; position: string }>(
    `SELECT transaction_id::text, position::text FROM events ${where} ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1`,
  );
  const row = rows[0];
  return row ? pgPosition(row.transaction_id, row.position) : LOG_START;
}

type StreamRange = Readonly<{ streamId: string; fromVersion: number; limit: number }>;

/**
 * What lies after a snapshot (or a stream's first events): a range of the (stream_id, stream_version)
 * unique index, never the whole stream. Commands reading their streams at the same moment ask in one
 * round trip, each range through its own LATERAL subquery.
 */
function postgresReadStreamFrom(pool: PgPool): EventLog['readStreamFrom'] {
  const ranges = batchPerTurn<StreamRange, readonly StoredEvent[]>(async (asked) => {
    if (asked.length === 1) {
      const [{ streamId, fromVersion, limit }] = asked as [StreamRange];
      const { rows } = await pool.query<EventRow>({
        name: 'cqrs_read_stream_from',
        text: `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
        values: [streamId, fromVersion, limit],
      });
      return [rows.map(toStoredEvent)];
    }
    const { rows } = await pool.query<EventRow & { range: number }>({
      name: 'cqrs_read_streams_from',
      text: `SELECT asked.range::int AS range, slice.* FROM unnest($1::text[], $2::int[], $3::int[]) WITH ORDINALITY AS asked(stream_id, from_version, max_events, range)
        CROSS JOIN LATERAL (SELECT ${COLUMNS} FROM events
                             WHERE events.stream_id = asked.stream_id AND events.stream_version >= asked.from_version
                             ORDER BY events.stream_version LIMIT asked.max_events) AS slice
        ORDER BY asked.range, slice.stream_version`,
      values: [asked.map((range) => range.streamId), asked.map((range) => range.fromVersion), asked.map((range) => range.limit)],
    });
    const slices: StoredEvent[][] = asked.map(() => []);
    for (const row of rows) slices[row.range - 1]!.push(toStoredEvent(row));
    return slices;
  }, MAX_STREAMS_PER_READ);
  return (streamId, { fromVersion, limit }) => ranges.load({ streamId, fromVersion, limit: Math.max(0, limit) });
}

/**
 * Events that committed behind a still-running transaction become readable
 * when it ends, which sends no notification if it aborts or writes no events
 * (a projection's own transaction, say): readers are woken again soon.
 */
function createHorizonRecheck(pool: PgPool, notify: () => void) {
  let recheck: NodeJS.Timeout | undefined;
  const recheckSoon = () => {
    recheck ??= setTimeout(() => {
      recheck = undefined;
      notify();
    }, HORIZON_RECHECK_MS);
  };
  /**
   * After a read that found nothing. This check runs in a later snapshot than
   * the read: an event that became readable in between (its holder rolled
   * back, which notifies no one) would otherwise wait for the next poll, so
   * it wakes the readers at once when the read would now find something.
   */
  const recheckSoonIfHeldBack = async (after: PgPositionParts, streamId: string | undefined) => {
    if (recheck) return;
    const readable = `EXISTS (SELECT FROM events
                               WHERE ${streamId === undefined ? '' : 'stream_id = $3 AND '}(transaction_id, position) > ($1::xid8, $2::bigint)
                                 AND ${BELOW_HORIZON})`;
    const { rows } = await pool.query<{ held_back: boolean | null; readable: boolean }>({
      name: streamId === undefined ? 'cqrs_events_held_back' : 'cqrs_events_held_back_of_stream',
      text: `SELECT ${HELD_BACK} AS held_back, ${readable} AS readable`,
      values: streamId === undefined ? [after.transactionId, after.sequence] : [after.transactionId, after.sequence, streamId],
    });
    if (rows[0]?.readable) notify();
    else if (rows[0]?.held_back) recheckSoon();
  };
  return { recheckSoon, recheckSoonIfHeldBack, cancel: () => clearTimeout(recheck) };
}

async function readAll(
  pool: PgPool,
  listeners: AppendListeners,
  horizon: HorizonRecheck,
  after: Position,
  limit: number,
  streamId: string | undefined,
): Promise<readonly StoredEvent[]> {
  const { transactionId, sequence } = pgPositionParts(after);
  const params: unknown[] = [transactionId, sequence, limit];
  if (streamId !== undefined) params.push(streamId);
  // Every row carries the held-back check (computed once per statement, in the read's own
  // snapshot), which saves the tailing reader a second round trip after each short read.
  const { rows } = await pool.query<EventRow & { held_back: boolean | null }>({
    name: streamId === undefined ? 'cqrs_read_all' : 'cqrs_read_all_of_stream',
    text: `SELECT ${COLUMNS}, ${HELD_BACK} AS held_back FROM events
      WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND ${BELOW_HORIZON}
            ${streamId === undefined ? '' : 'AND stream_id = $4'}
      ORDER BY events.transaction_id, events.position LIMIT $3`,
    values: params,
  });
  // Only a short read can have stopped before held-back events; without listeners nobody would be woken.
  if (rows.length < limit && listeners.size > 0) {
    // Off the reader's path: it only arms a timer, and a failed check is retried by the next read.
    if (rows.length === 0) horizon.recheckSoonIfHeldBack({ transactionId, sequence }, streamId).catch(() => {});
    else if (rows[0]!.held_back) horizon.recheckSoon();
  }
  return rows.map(toStoredEvent);
}

/**
 * A page between two positions, below the horizon like every other read: a
 * page never shows an event that an older, still running transaction could
 * yet put in front of, so its last position is a safe `after` for tailing.
 * One named statement per shape (direction and which bounds and filters).
 */
async function readPage(pool: PgPool, { direction, limit, after, before, streamId, types }: ReadPageOptions): Promise<readonly StoredEvent[]> {
  const values: unknown[] = [limit];
  const conditions = [BELOW_HORIZON];
  const bind = (value: unknown) => `$${values.push(value)}`;
  if (after !== undefined) {
    const { transactionId, sequence } = pgPositionParts(after);
    conditions.push(`(transaction_id, position) > (${bind(transactionId)}::xid8, ${bind(sequence)}::bigint)`);
  }
  if (before !== undefined) {
    const { transactionId, sequence } = pgPositionParts(before);
    conditions.push(`(transaction_id, position) < (${bind(transactionId)}::xid8, ${bind(sequence)}::bigint)`);
  }
  if (streamId !== undefined) conditions.push(`stream_id = ${bind(streamId)}`);
  if (types !== undefined) conditions.push(`type = ANY(${bind(types)}::text[])`);
  const order = direction === 'forward' ? '' : ' DESC';
  const shape = [direction, after !== undefined, before !== undefined, streamId !== undefined, types !== undefined].map((part) => (part === true ? 1 : part === false ? 0 : part)).join('_');
  const { rows } = await pool.query<EventRow>({
    name: `cqrs_read_page_${shape}`,
    text: `SELECT ${COLUMNS} FROM events WHERE ${conditions.join(' AND ')}
      ORDER BY events.transaction_id${order}, events.position${order} LIMIT $1`,
    values,
  });
  return rows.map(toStoredEvent);
}

/** Commands deciding at the same moment read their streams in one round trip. */
function createStreamReader(pool: PgPool) {
  return batchPerTurn<string, StreamSlice>(async (streamIds) => {
    const { rows } = await pool.query<EventRow>(
      streamIds.length === 1
        ? { name: 'cqrs_read_stream', text: `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, values: [streamIds[0]] }
        : {
            name: 'cqrs_read_streams',
            text: `SELECT ${COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version`,
            values: [streamIds],
          },
    );
    const eventsOf = new Map<string, StoredEvent[]>();
    for (const row of rows) {
      const events = eventsOf.get(row.stream_id) ?? [];
      events.push(toStoredEvent(row));
      eventsOf.set(row.stream_id, events);
    }
    return streamIds.map((streamId) => {
      const events = eventsOf.get(streamId) ?? [];
      return { version: events.at(-1)?.streamVersion ?? 0, events };
    });
  }, MAX_STREAMS_PER_READ);
}

/** One round trip: the whole append runs in `cqrs_append_events`, in the caller's transaction or its own. */
async function appendEvents(client: PgClient | PgPool, unordered: AppendRequest): Promise<Appended> {
  const request = inLockOrderWithin(unordered);
  const { rows } = await client.query<AppendedRow>({
    name: 'cqrs_append_events',
    text: 'SELECT * FROM cqrs_append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
    values: [
      request.streamId,
      request.expectedVersion,
      request.events.map((e) => e.type),
      request.events.map((e) => e.schemaVersion ?? 1),
      request.events.map((e) => JSON.stringify(e.data)),
      request.events.map((e) => JSON.stringify(e.metadata)),
      (request.releases ?? []).map((u) => u.scope),
      (request.releases ?? []).map((u) => u.value),
      (request.claims ?? []).map((u) => u.scope),
      (request.claims ?? []).map((u) => u.value),
      request.idempotency?.key ?? null,
      request.dataKey?.subject ?? null,
      request.dataKey ? Buffer.from(request.dataKey.wrapped) : null,
      request.shred ?? null,
    ],
  });
  return appendedFrom(request, rows);
}

// The idempotency record holds the append's outcome, positions included, so it is written
// after the events in the same transaction: three more round trips, only for keyed commands.
function appendWithIdempotency(
  pool: PgPool,
  request: AppendRequest & { idempotency: NonNullable<AppendRequest['idempotency']> },
  records: KeyedRecords,
) {
  return inTransaction(pool, async (client) => {
    const result = await appendEvents(client, request);
    const { key, requestHash, outcome } = request.idempotency;
    if (!(await records.recordInAppend(client, { key, requestHash, outcome: outcome(result) }))) {
      throw new Rollback({ type: 'IdempotencyKeyTaken', key });
    }
    return result;
  });
}

/**
 * cqrs_append_events refuses a key that any row holds, expired or not (it knows no
 * retention window): after such a refusal an expired record is deleted and the
 * append tried once more. Costs nothing on the way of an append that succeeds.
 */
async function appendKeyed(
  pool: PgPool,
  notify: () => void,
  request: AppendRequest & { idempotency: NonNullable<AppendRequest['idempotency']> },
  records: KeyedRecords,
): Promise<AppendOutcome> {
  const write = () => appendWithIdempotency(pool, request, records);
  const outcome = await appendAlone(pool, notify, request, write);
  if (outcome.ok || outcome.error.type !== 'IdempotencyKeyTaken') return outcome;
  return (await records.freeExpiredKey(outcome.error.key)) ? appendAlone(pool, notify, request, write) : outcome;
}

/** One append in a transaction of its own, its conflict read from the error that rolled it back. */
async function appendAlone(
  pool: PgPool,
  notify: () => void,
  request: AppendRequest,
  write: () => Promise<Appended> = () => appendEvents(pool, request),
): Promise<AppendOutcome> {
  let result: Appended;
  try {
    result = await write();
  } catch (error) {
    const conflict = await conflictAfterRollback(pool, error, request);
    if (conflict) return fail(conflict);
    // A lost connection may hide a commit, whose echo this instance skips: wake for it here.
    notify();
    throw error;
  }
  notify();
  return ok(result);
}

async function conflictAfterRollback(pool: PgPool, error: unknown, request: AppendRequest): Promise<AppendConflict | null> {
  if (error instanceof Rollback) return error.conflict;
  const { code, constraint, detail } = error as { code?: string; constraint?: string; detail?: string };
  if (code === IDEMPOTENCY_KEY_TAKEN) return { type: 'IdempotencyKeyTaken', key: request.idempotency!.key };
  // A concurrent append took the same stream version first; a deadlock between two
  // appends is resolved by PostgreSQL aborting one, which may simply try again.
  if ((code === UNIQUE_VIOLATION && constraint === 'events_stream_version_unique') || code === DEADLOCK) {
    const { streamId, expectedVersion } = request;
    return { type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion: await streamVersion(pool, streamId) };
  }
  return conflictOf(code, detail, request);
}

// Only after a lost race, outside the failed transaction; the append itself checks in cqrs_append_events.
async function streamVersion(pool: PgPool, streamId: string): Promise<number> {
  return (await pool.query<{ version: number | null }>('SELECT max(stream_version) AS version FROM events WHERE stream_id = $1', [streamId]))
    .rows[0]?.version ?? 0;
}

const settled = (outcome: Promise<AppendOutcome>): Promise<SettledAppend> => outcome.catch((thrown: unknown) => ({ thrown }));

function createGroupedAppend(pool: PgPool, notify: () => void) {
  return createGroupCommit(
    async (requests) => {
      if (requests.length === 1) return [await settled(appendAlone(pool, notify, requests[0]!))];
      let outcomes: AppendOutcome[];
      try {
        outcomes = await appendBatch(pool, requests);
      } catch (error) {
        // An ERROR (not FATAL) answer means the batch's transaction rolled back whole and the
        // session goes on: each append then meets its own outcome alone. With no answer (a lost
        // connection) the commit may have happened, and appending again could apply a command twice.
        if (!(error instanceof pg.DatabaseError && error.severity === 'ERROR')) {
          notify(); // for a commit the lost answer may hide (see appendAlone)
          throw error;
        }
        return Promise.all(requests.map((request) => settled(appendAlone(pool, notify, request))));
      }
      if (outcomes.some((outcome) => outcome.ok)) notify();
      return outcomes;
    },
    { maxGroup: MAX_GROUP, maxInFlight: GROUPS_IN_FLIGHT },
  );
}

function postgresDataKeys(pool: PgPool): DataKeys {
  const readCheck = async () => {
    const { rows } = await pool.query<{ key_id: string; check_value: Buffer; events_sealed: boolean }>(
      'SELECT key_id, check_value, events_sealed FROM master_key_check WHERE id = 1',
    );
    const row = rows[0];
    return row && { keyId: row.key_id, check: new Uint8Array(row.check_value), eventsSealed: row.events_sealed };
  };
  // Every read asks the rows (an erasure on another instance shows at once), but the reads of one turn ask
  // together: commands opening their streams at the same moment cost one round trip, not one each. A key
  // read this way is still read after the events it opens, which is what the appends' cache relies on.
  const keyRows = batchPerTurn<string, StoredDataKey | null>(async (subjects) => {
    const { rows } = await pool.query<{ subject: string; wrapped: Buffer | null }>({
      name: 'cqrs_read_data_keys',
      text: 'SELECT subject, wrapped FROM data_keys WHERE subject = ANY($1::text[])',
      values: [[...new Set(subjects)]],
    });
    const found = new Map<string, StoredDataKey>();
    for (const { subject, wrapped } of rows) found.set(subject, wrapped === null ? 'destroyed' : new Uint8Array(wrapped));
    return subjects.map((subject) => found.get(subject) ?? null);
  }, DATA_KEYS_PER_READ);
  return {
    readDataKeys: async (subjects) => {
      const keys = await keyRows.loadMany(subjects);
      const found = new Map<string, StoredDataKey>();
      subjects.forEach((subject, i) => {
        const key = keys[i];
        if (key instanceof Error) throw key;
        if (key !== null && key !== undefined) found.set(subject, key);
      });
      return found;
    },
    // Read first: a store opened with the wrong key is refused before anything is written.
    ensureKeyCheck: async ({ keyId, check }) => {
      const stored = await readCheck();
      if (stored) return stored;
      await pool.query(
        `INSERT INTO master_key_check (id, key_id, check_value, events_sealed)
         SELECT 1, $1, $2, NOT EXISTS (SELECT FROM events) ON CONFLICT DO NOTHING`,
        [keyId, Buffer.from(check)],
      );
      return (await readCheck())!;
    },
  };
}

const postgresPositionCodec: PositionCodec = {
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
};
