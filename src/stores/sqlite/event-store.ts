import {
  DEFAULT_IDEMPOTENCY_RETENTION,
  type AppendConflict,
  type AppendRequest,
  type Appended,
  type DataKeys,
  type EventLog,
  type EventStore,
  type IdempotencyRecord,
  type IdempotencyRecords,
  type IdempotencyRetention,
  type PositionCodec,
  type ReadPageOptions,
  type StoredDataKey,
} from '../../kernel/event-store.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START } from '../../kernel/position.js';
import { createLruMap, type LruMap } from '../../kernel/lru-map.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import type { StreamCategory } from '../../kernel/stream-id.js';
import { createAppendListeners } from '../append-listeners.js';
import { OLD_ID_MARK, oldStreamsNotAdopted } from '../stream-categories.js';
import { Rollback } from '../rollback.js';
import { START_TEXT, tagPosition, untagPosition } from '../position-text.js';
import { positionTextOf, rowIdOf, sqlitePosition } from './position.js';
import { closeSqlite, migrate, openSqlite, synchronousOf, type Durability, type Migration, type SqliteDatabase } from './database.js';
import { limitedQuery } from './limited-query.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'events, unique values, idempotency records',
    up: (db) =>
      db.exec(`
        CREATE TABLE events (
          position       INTEGER PRIMARY KEY AUTOINCREMENT,
          stream_id      TEXT    NOT NULL,
          stream_version INTEGER NOT NULL,
          type           TEXT    NOT NULL,
          schema_version INTEGER NOT NULL,
          data           TEXT    NOT NULL,
          metadata       TEXT    NOT NULL,
          UNIQUE (stream_id, stream_version)
        ) STRICT;
        CREATE TABLE unique_values (
          scope     TEXT NOT NULL,
          value     TEXT NOT NULL,
          stream_id TEXT NOT NULL,
          PRIMARY KEY (scope, value)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE idempotency_records (
          key          TEXT PRIMARY KEY,
          request_hash TEXT NOT NULL,
          outcome      TEXT NOT NULL,
          recorded_at  TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
      `),
  },
  {
    version: 2,
    description: 'positions in stored command outcomes as fixed-width text',
    up: (db) =>
      db.exec(`
        UPDATE idempotency_records
           SET outcome = json_set(outcome, '$.value.position', ${positionTextOf("json_extract(outcome, '$.value.position')")})
         WHERE json_type(outcome, '$.value.position') = 'integer'`),
  },
];

/** Version 3 (after the released ones above): stream ids carry their aggregate's category (src/stores/stream-categories.ts). */
const categorisedStreams = (category: StreamCategory | undefined): Migration => ({
  version: 3,
  description: 'stream ids carry their aggregate category',
  up: (db) => {
    const old = db.prepare('SELECT 1 FROM events UNION ALL SELECT 1 FROM unique_values LIMIT 1').get();
    if (old === undefined) return;
    if (category === undefined) throw new Error(oldStreamsNotAdopted(db.name));
    db.prepare(`UPDATE events SET stream_id = ? || stream_id`).run(`${category}${OLD_ID_MARK}`);
    db.prepare(`UPDATE events SET stream_id = ? || substr(stream_id, ?)`).run(`${category}-`, category.length + 2);
    db.prepare(`UPDATE unique_values SET stream_id = ? || stream_id`).run(`${category}-`);
    db.prepare(
      `UPDATE idempotency_records SET outcome = json_set(outcome, '$.value.streamId', ? || json_extract(outcome, '$.value.streamId'))
        WHERE json_type(outcome, '$.value.streamId') = 'text'`,
    ).run(`${category}-`);
  },
});

/**
 * Version 4: per-subject data keys (src/kernel/personal-data.ts), sealed
 * under the master key; a destroyed key keeps its row, wrapped NULL, as a
 * tombstone. One row records the master key's check value.
 */
const dataKeys: Migration = {
  version: 4,
  description: 'data keys for personal fields, master key check',
  up: (db) =>
    db.exec(`
      CREATE TABLE data_keys (
        subject      TEXT PRIMARY KEY,
        wrapped      BLOB,
        destroyed_at TEXT,
        CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE master_key_check (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        key_id        TEXT    NOT NULL,
        check_value   BLOB    NOT NULL,
        events_sealed INTEGER NOT NULL,
        written_at    TEXT    NOT NULL
      ) STRICT;
    `),
};

/**
 * Version 5: the pruner deletes records oldest first, a batch at a time, and
 * finds them by this index instead of scanning the table.
 */
const idempotencyRecordsByAge: Migration = {
  version: 5,
  description: 'idempotency records by age, for pruning expired ones',
  up: (db) => db.exec('CREATE INDEX IF NOT EXISTS idempotency_records_recorded_at ON idempotency_records (recorded_at)'),
};

const EVENT_COLUMNS = 'position, stream_id, stream_version, type, schema_version, data, metadata';
/** A row as an array in EVENT_COLUMNS order: better-sqlite3 builds no keyed object per row (`.raw(true)`). */
type EventRow = [position: number, streamId: string, streamVersion: number, type: string, schemaVersion: number, data: string, metadata: string];

const ROW_ID_TEXT = /^(0|[1-9][0-9]{0,14})$/;

const toStoredEvent = ([position, streamId, streamVersion, type, schemaVersion, data, metadata]: EventRow): StoredEvent => ({
  position: sqlitePosition(position),
  streamId,
  streamVersion,
  type,
  schemaVersion,
  data: JSON.parse(data) as object,
  metadata: JSON.parse(metadata) as StoredEvent['metadata'],
});

export type SqliteEventStoreOptions = Readonly<{
  path: string;
  durability?: Durability;
  /** Where streams written before stream ids carried a category go (see src/stores/stream-categories.ts). */
  categoryOfOldStreams?: StreamCategory | undefined;
  /** @default DEFAULT_IDEMPOTENCY_RETENTION (24 hours, wall clock) */
  idempotencyRetention?: IdempotencyRetention;
}>;

export type SqliteEventStore = EventStore &
  Readonly<{
    /** The connection's `synchronous` setting, so the effective durability can be reported. */
    synchronous: () => string;
  }>;

/**
 * The event log in one SQLite file. SQLite admits one writer at a time, so
 * positions are handed out in commit order and a reader tailing by position
 * can never miss an event that commits later with a lower position.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const db: SqliteDatabase = openSqlite(options.path, { durability: options.durability ?? 'process' });
  migrate(db, 'event-store', [...migrations, categorisedStreams(options.categoryOfOldStreams), dataKeys, idempotencyRecordsByAge]);
  const listeners = createAppendListeners();
  const statements = prepareStatements(db, options.idempotencyRetention ?? DEFAULT_IDEMPOTENCY_RETENTION);
  const knownKeys = createKnownDataKeys();
  return {
    ...sqliteEventLog(statements, createGroupCommit(db, statements, listeners.notify, knownKeys)),
    readPage: sqlitePageReader(db),
    readStreamFrom: sqliteReadStreamFrom(db),
    onAppended: listeners.subscribe,
    ...sqliteIdempotencyRecords(statements),
    ...sqliteDataKeys(db, statements, knownKeys),
    ...sqlitePositionCodec,
    synchronous: () => synchronousOf(db),
    close: async () => {
      listeners.clear();
      closeSqlite(db);
    },
  };
}

/** Every statement the store runs, prepared once when it opens. */
function prepareStatements(db: SqliteDatabase, retention: IdempotencyRetention) {
  return {
    records: prepareRecordStatements(db, retention),
    streamVersion: db.prepare<[string], { version: number | null }>(
      'SELECT MAX(stream_version) AS version FROM events WHERE stream_id = ?',
    ),
    // Rows as arrays: reading them is most of a replay's cost outside the projection itself.
    readStream: db
      .prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_version`)
      .raw(true),
    readAll: limitedQuery<[number], EventRow>(db, (limit) => `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ${limit}`),
    readAllOfStream: limitedQuery<[string, number], EventRow>(
      db,
      (limit) => `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND position > ? ORDER BY stream_version LIMIT ${limit}`,
    ),
    exists: db.prepare<[number], { found: number }>('SELECT 1 AS found FROM events WHERE position = ?'),
    head: db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events'),
    insertEvent: db.prepare(
      'INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    uniqueOwner: db.prepare<[string, string], { stream_id: string }>(
      'SELECT stream_id FROM unique_values WHERE scope = ? AND value = ?',
    ),
    claim: db.prepare('INSERT OR IGNORE INTO unique_values (scope, value, stream_id) VALUES (?, ?, ?)'),
    release: db.prepare('DELETE FROM unique_values WHERE scope = ? AND value = ? AND stream_id = ?'),
    insertDataKey: db.prepare('INSERT INTO data_keys (subject, wrapped) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    shred: db.prepare(
      `INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES (?, NULL, ?)
       ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, destroyed_at = coalesce(data_keys.destroyed_at, excluded.destroyed_at)`,
    ),
    readDataKeys: db.prepare<[string], { subject: string; wrapped: Buffer | null }>(
      'SELECT subject, wrapped FROM data_keys WHERE subject IN (SELECT value FROM json_each(?))',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function sqliteEventLog(statements: Statements, append: EventLog['append']): Omit<EventLog, 'onAppended' | 'readPage' | 'readStreamFrom'> {
  const headPosition = async () => {
    const head = statements.head.get()?.head;
    return head == null ? LOG_START : sqlitePosition(head);
  };
  return {
    append: (request) => {
      if (request.events.length === 0) return Promise.reject(new Error('append needs at least one event'));
      return append(request);
    },
    readStream: async (streamId) => {
      const events = statements.readStream.all(streamId).map(toStoredEvent);
      return { version: events.at(-1)?.streamVersion ?? 0, events };
    },
    readAll: async ({ after, limit, streamId }) => {
      const rows =
        streamId === undefined
          ? statements.readAll(limit, rowIdOf(after))
          : statements.readAllOfStream(limit, streamId, rowIdOf(after));
      return rows.map(toStoredEvent);
    },
    headPosition,
    // One writer, whose commits are visible at once: nothing is ever held back.
    lastCommittedPosition: headPosition,
    isEventPosition: async (position) => position === LOG_START || statements.exists.get(rowIdOf(position)) !== undefined,
  };
}

/** Above every row id: the bound of a page that has no `before`. */
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * Pages between two positions. One statement per shape (direction, stream
 * filter, type filter), prepared at its first use. A stream's events are
 * read through its (stream_id, stream_version) index: with one writer, a
 * stream's version order is its position order. Types come as one JSON
 * array, so any number of them shares a statement.
 */
function sqlitePageReader(db: SqliteDatabase): EventLog['readPage'] {
  const shapes = new Map<string, (limit: number, ...params: unknown[]) => EventRow[]>();
  const shapeOf = (direction: ReadPageOptions['direction'], ofStream: boolean, ofTypes: boolean) => {
    const key = `${direction}:${ofStream}:${ofTypes}`;
    let query = shapes.get(key);
    if (!query) {
      const order = `${ofStream ? 'stream_version' : 'position'}${direction === 'backward' ? ' DESC' : ''}`;
      const filters = `${ofStream ? ' AND stream_id = ?' : ''}${ofTypes ? ' AND type IN (SELECT value FROM json_each(?))' : ''}`;
      query = limitedQuery<unknown[], EventRow>(
        db,
        (limit) => `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position < ?${filters} ORDER BY ${order} LIMIT ${limit}`,
      );
      shapes.set(key, query);
    }
    return query;
  };
  return async ({ direction, limit, after, before, streamId, types }) => {
    const params: unknown[] = [after === undefined ? 0 : rowIdOf(after), before === undefined ? NO_UPPER_BOUND : rowIdOf(before)];
    if (streamId !== undefined) params.push(streamId);
    if (types !== undefined) params.push(JSON.stringify(types));
    return shapeOf(direction, streamId !== undefined, types !== undefined)(limit, ...params).map(toStoredEvent);
  };
}

/** What lies after a snapshot: a range of the (stream_id, stream_version) key, never the whole stream. */
function sqliteReadStreamFrom(db: SqliteDatabase): EventLog['readStreamFrom'] {
  const statement = db
    .prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?`,
    )
    .raw(true);
  return async (streamId, { fromVersion, limit }) => statement.all(streamId, fromVersion, limit).map(toStoredEvent);
}

/**
 * Group commit: appends that arrive in the same turn of the event loop are
 * written in one transaction, each inside its own SAVEPOINT (better-sqlite3
 * nests a transaction function as a savepoint), so a conflict undoes only
 * its own append. Nobody hears back before the shared COMMIT returns, so an
 * acknowledged append is as durable as before; only the commit is shared.
 */
function createGroupCommit(db: SqliteDatabase, statements: Statements, notify: () => void, knownKeys: KnownDataKeys): EventLog['append'] {
  // The data keys each append stored (a new stream's), known once its savepoint is released.
  let storedKeys = new Map<string, Uint8Array>();
  const appendOne = db.transaction((request: AppendRequest) => appendInTransaction(statements, request));
  const commitGroup = db.transaction((requests: readonly AppendRequest[]): Outcome[] =>
    requests.map((request) => {
      try {
        const { appended, keyStored } = appendOne(request);
        if (keyStored) storedKeys.set(keyStored.subject, keyStored.wrapped);
        return ok(appended);
      } catch (error) {
        return error instanceof Rollback ? fail(error.conflict) : { thrown: error };
      }
    }),
  );
  let queued: { request: AppendRequest; settle: (outcome: Outcome) => void }[] = [];
  const flush = () => {
    const group = queued;
    queued = [];
    let outcomes: Outcome[];
    storedKeys = new Map();
    try {
      outcomes = commitGroup.immediate(group.map((entry) => entry.request));
    } catch (error) {
      // The COMMIT itself failed: nothing in the group was written.
      for (const entry of group) entry.settle({ thrown: error });
      return;
    }
    // Committed: from here on nothing may turn these into failures a caller would retry.
    for (const [subject, wrapped] of storedKeys) knownKeys.set(subject, Uint8Array.from(wrapped));
    group.forEach((entry, i) => {
      const outcome = outcomes[i]!;
      if ('ok' in outcome && outcome.ok) for (const subject of entry.request.shred ?? []) knownKeys.set(subject, 'destroyed');
    });
    if (outcomes.some((outcome) => 'ok' in outcome && outcome.ok)) notify();
    group.forEach((entry, i) => entry.settle(outcomes[i]!));
  };
  return (request) =>
    new Promise((resolve, reject) => {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ request, settle: (outcome) => ('thrown' in outcome ? reject(outcome.thrown) : resolve(outcome)) });
    });
}

type Outcome = Result<Appended, AppendConflict> | { thrown: unknown };

/** One append inside its savepoint; a conflict throws `Rollback`, which undoes whatever it wrote. */
function appendInTransaction(statements: Statements, request: AppendRequest): { appended: Appended; keyStored: AppendRequest['dataKey'] } {
  const { streamId, expectedVersion } = request;
  const actualVersion = statements.streamVersion.get(streamId)?.version ?? 0;
  if (actualVersion !== expectedVersion) {
    throw new Rollback({ type: 'StreamVersionConflict', streamId, expectedVersion, actualVersion });
  }
  if (request.idempotency && statements.records.live(request.idempotency.key)) {
    throw new Rollback({ type: 'IdempotencyKeyTaken', key: request.idempotency.key });
  }
  moveUniqueValues(statements, request);
  // A stream's key is never replaced: the one given is stored only when the stream had none.
  const keyStored = request.dataKey && statements.insertDataKey.run(request.dataKey.subject, request.dataKey.wrapped).changes === 1 ? request.dataKey : undefined;
  if (request.shred?.length) {
    const now = new Date().toISOString();
    for (const subject of request.shred) statements.shred.run(subject, now);
  }
  const events = insertEvents(statements, request);
  const result: Appended = {
    streamId,
    version: expectedVersion + events.length,
    position: events[events.length - 1]!.position,
    events,
  };
  if (request.idempotency) {
    const { key, requestHash, outcome } = request.idempotency;
    // No live record holds the key (checked above, in this transaction): this stores it, replacing an expired one.
    statements.records.store(key, requestHash, outcome(result));
  }
  return { appended: result, keyStored };
}

/** Releases first, so a stream may claim again a value it gives up in the same append. */
function moveUniqueValues(statements: Statements, { streamId, releases, claims }: AppendRequest): void {
  for (const { scope, value } of releases ?? []) statements.release.run(scope, value, streamId);
  for (const { scope, value } of claims ?? []) {
    const owner = statements.uniqueOwner.get(scope, value)?.stream_id;
    if (owner !== undefined && owner !== streamId) {
      throw new Rollback({ type: 'UniqueValueTaken', scope, value, ownerStreamId: owner });
    }
    statements.claim.run(scope, value, streamId);
  }
}

function insertEvents(statements: Statements, { streamId, expectedVersion, events }: AppendRequest): StoredEvent[] {
  return events.map((event, index) => {
    const streamVersion = expectedVersion + index + 1;
    const schemaVersion = event.schemaVersion ?? 1;
    const { lastInsertRowid } = statements.insertEvent.run(
      streamId,
      streamVersion,
      event.type,
      schemaVersion,
      JSON.stringify(event.data),
      JSON.stringify(event.metadata),
    );
    return { ...event, position: sqlitePosition(Number(lastInsertRowid)), streamId, streamVersion, schemaVersion };
  });
}

/**
 * Expiry is judged in the queries, so an expired row counts as absent before
 * the pruner deletes it; times are ISO-8601 text, which sorts as time does.
 */
function prepareRecordStatements(db: SqliteDatabase, { windowMs, clock }: IdempotencyRetention) {
  const now = () => clock().toISOString();
  const cutoff = () => new Date(clock().getTime() - windowMs).toISOString();
  const get = db.prepare<[string, string], { key: string; request_hash: string; outcome: string }>(
    'SELECT key, request_hash, outcome FROM idempotency_records WHERE key = ? AND recorded_at >= ?',
  );
  // Replaces only an expired record: a live one keeps its key.
  const upsert = db.prepare<[string, string, string, string, string]>(
    `INSERT INTO idempotency_records (key, request_hash, outcome, recorded_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, outcome = excluded.outcome, recorded_at = excluded.recorded_at
       WHERE idempotency_records.recorded_at < ?`,
  );
  const prune = db.prepare<[string, number]>(
    `DELETE FROM idempotency_records WHERE key IN (
       SELECT key FROM idempotency_records WHERE recorded_at < ? ORDER BY recorded_at LIMIT ?)`,
  );
  const oldest = db.prepare<[], { oldest: string | null }>('SELECT MIN(recorded_at) AS oldest FROM idempotency_records');
  return {
    live: (key: string): IdempotencyRecord | null => {
      const row = get.get(key, cutoff());
      return row ? { key: row.key, requestHash: row.request_hash, outcome: JSON.parse(row.outcome) } : null;
    },
    store: (key: string, requestHash: string, outcome: unknown) => upsert.run(key, requestHash, JSON.stringify(outcome), now(), cutoff()),
    // One statement is one short write transaction: appends wait for at most one batch.
    prune: (limit: number) => prune.run(cutoff(), limit).changes,
    oldest: () => {
      const at = oldest.get()?.oldest;
      return at == null ? null : new Date(at);
    },
  };
}

function sqliteIdempotencyRecords({ records }: Statements): IdempotencyRecords {
  return {
    getIdempotencyRecord: async (key) => records.live(key),
    saveIdempotencyRecord: async (record) => {
      records.store(record.key, record.requestHash, record.outcome);
      return records.live(record.key)!;
    },
    pruneExpiredIdempotencyRecords: async (limit) => records.prune(limit),
    oldestIdempotencyRecordAt: async () => records.oldest(),
  };
}

/**
 * The data keys this store has read, kept because only this process writes
 * events.db while it is open (the writer lock), and a stored key changes in
 * one way only: an erasure destroys it, which the group commit records here
 * right after its COMMIT, before any other code runs. Keys not yet stored are
 * not kept, so a stream's first append is always seen. A bounded map: an
 * update reads its stream's key on every command, a lookup costing more than
 * the rest of sealing.
 */
const KNOWN_DATA_KEYS = 50_000;

type KnownDataKeys = LruMap<string, StoredDataKey>;

const createKnownDataKeys = (): KnownDataKeys => createLruMap(KNOWN_DATA_KEYS);

function sqliteDataKeys(db: SqliteDatabase, statements: Statements, knownKeys: KnownDataKeys): DataKeys {
  const readCheck = db.prepare<[], { key_id: string; check_value: Buffer; events_sealed: number }>(
    'SELECT key_id, check_value, events_sealed FROM master_key_check WHERE id = 1',
  );
  const writeCheck = db.prepare(
    `INSERT INTO master_key_check (id, key_id, check_value, events_sealed, written_at)
     VALUES (1, ?, ?, NOT EXISTS (SELECT 1 FROM events), ?) ON CONFLICT DO NOTHING`,
  );
  const ensure = db.transaction((keyId: string, check: Uint8Array) => {
    if (!readCheck.get()) writeCheck.run(keyId, check, new Date().toISOString());
    const row = readCheck.get()!;
    return { keyId: row.key_id, check: new Uint8Array(row.check_value), eventsSealed: row.events_sealed === 1 };
  });
  return {
    readDataKeys: async (subjects) => {
      const found = new Map<string, StoredDataKey>();
      const unknown: string[] = [];
      for (const subject of subjects) {
        const key = knownKeys.get(subject);
        if (key === undefined) unknown.push(subject);
        else found.set(subject, key);
      }
      if (unknown.length === 0) return found;
      for (const { subject, wrapped } of statements.readDataKeys.all(JSON.stringify(unknown))) {
        const key = wrapped === null ? 'destroyed' : new Uint8Array(wrapped);
        found.set(subject, key);
        knownKeys.set(subject, key);
      }
      return found;
    },
    // Read first outside any write: a store opened with the wrong key is refused before anything is written.
    ensureKeyCheck: async ({ keyId, check }) => {
      const row = readCheck.get();
      if (row) return { keyId: row.key_id, check: new Uint8Array(row.check_value), eventsSealed: row.events_sealed === 1 };
      return ensure.immediate(keyId, check);
    },
  };
}

const sqlitePositionCodec: PositionCodec = {
  parsePosition: (text) => {
    if (text === START_TEXT) return ok(LOG_START);
    const body = untagPosition('sqlite', text);
    if (!body.ok) return body;
    return ROW_ID_TEXT.test(body.value) ? ok(sqlitePosition(Number(body.value))) : fail('is not a position of this event store');
  },
  formatPosition: (position) => (position === LOG_START ? START_TEXT : tagPosition('sqlite', String(rowIdOf(position)))),
  estimateEventsBetween: (from, to) => Math.max(0, rowIdOf(to) - rowIdOf(from)),
};
