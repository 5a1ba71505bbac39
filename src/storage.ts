import { join } from 'node:path';
import type { EventStore } from './kernel/event-store.js';
import { localLeases, type Leases } from './kernel/leases.js';
import type { ProjectionSink } from './kernel/projector.js';
import { openPostgres } from './stores/postgres/database.js';
import { createPostgresEventStore } from './stores/postgres/event-store.js';
import { createPostgresLeases } from './stores/postgres/leases.js';
import { createNotificationListener } from './stores/postgres/notifications.js';
import { createPostgresProjectionSinks, preparePostgresReadModel } from './stores/postgres/projection-sink.js';
import { openSqlite, synchronousOf, type Durability } from './stores/sqlite/database.js';
import { createSqliteEventStore } from './stores/sqlite/event-store.js';
import { openEventLog, quickCheck, quickCheckFile, reportDamagedReads } from './stores/sqlite/integrity.js';
import { createSqliteProjectionSink, prepareReadDatabase, type SqliteProjection } from './stores/sqlite/projection-sink.js';
import { withDataDirLock } from './stores/sqlite/writer-lock.js';
import { openReadDatabase, rebuildReadModel, reportOnStderr, type ReadModelRepair } from './stores/sqlite/read-database.js';
import type { UsersReadModel } from './users/read-model/read-model.js';
import { usersModule } from './users/module.js';

export type StorageOptions =
  | Readonly<{
      kind: 'sqlite';
      dataDir: string;
      durability: Durability;
      /** Page cache of read.db; a replay inserts nowhere near key order, so `rebuild` keeps the indexes in memory. */
      readCacheMiB?: number;
      /** How a damaged read.db being set aside and rebuilt is told; one line each on stderr by default. */
      reportRepair?: (repair: ReadModelRepair) => void;
      /**
       * Files to read in full first (`PRAGMA quick_check`), so damage in any page is found before
       * anything is changed: `migrate` checks both, `rebuild` the log. Too slow for every start.
       */
      fullCheck?: readonly ('events.db' | 'read.db')[];
    }>
  | Readonly<{ kind: 'postgres'; url: string; poolSize: number }>;

/** The event store, the projections' sinks and the read models, on one kind of store. */
export type Storage = Readonly<{
  store: EventStore;
  sinks: readonly ProjectionSink[];
  /** Who runs each projection: PostgreSQL elects one instance; SQLite has only this process. */
  leases: Leases;
  readModels: Readonly<{ users: UsersReadModel }>;
  /** What was opened, for the start-up log (never the connection URL: it may hold a password). */
  description: Readonly<Record<string, unknown>>;
  close: () => Promise<void>;
}>;

/**
 * Opens and migrates the store (SQLite: under the data directory's one-writer
 * lock, held until `close`); `onReadModelQuery` lets tests count read-model
 * queries, and `extraSqliteProjections` run beside the modules' own (a test seam).
 */
export async function openStorage(
  options: StorageOptions,
  onReadModelQuery?: () => void,
  extraSqliteProjections: readonly SqliteProjection[] = [],
): Promise<Storage> {
  return options.kind === 'sqlite'
    ? withDataDirLock(options.dataDir, () => openSqliteStorage(options, onReadModelQuery, extraSqliteProjections))
    : openPostgresStorage(options, onReadModelQuery);
}

async function openSqliteStorage(
  options: Extract<StorageOptions, { kind: 'sqlite' }>,
  onQuery: (() => void) | undefined,
  extraProjections: readonly SqliteProjection[],
): Promise<Storage> {
  // The directory exists: taking its writer lock created it.
  const { dataDir, durability, reportRepair = reportOnStderr } = options;
  const eventsPath = join(dataDir, 'events.db');
  const store = openEventLog(eventsPath, () => {
    if (options.fullCheck?.includes('events.db')) quickCheckFile(eventsPath);
    return reportDamagedReads(createSqliteEventStore({ path: eventsPath, durability }), eventsPath);
  });
  const projections = [...usersModule.sqlite.projections, ...extraProjections];
  // Disposable: damaged, it is set aside and rebuilt from events.db (src/stores/sqlite/read-database.ts).
  const read = openReadDatabase({
    path: join(dataDir, 'read.db'),
    connect: (path) => {
      const db = openSqlite(path, { durability });
      try {
        if (options.readCacheMiB) db.pragma(`cache_size = -${options.readCacheMiB * 1024}`);
        if (options.fullCheck?.includes('read.db')) quickCheck(db);
        prepareReadDatabase(db, projections);
        return db;
      } catch (error) {
        db.close();
        throw error;
      }
    },
    build: (db) => ({
      sinks: projections.map((projection) => createSqliteProjectionSink(db, projection)),
      users: usersModule.sqlite.readModel(db, onQuery),
    }),
    report: reportRepair,
  });
  const sinks = projections.map((_, i) => read.sink((built) => built.sinks[i]!));
  if (read.setAsideAtOpen) await rebuildReadModel(store, sinks, reportRepair);
  return {
    store,
    sinks,
    leases: localLeases,
    readModels: { users: read.guarded((built) => built.users) },
    description: { store: 'sqlite', dataDir, durability, synchronous: { events: store.synchronous(), read: synchronousOf(read.current()) } },
    close: async () => {
      await store.close();
      read.close();
    },
  };
}

async function openPostgresStorage(options: Extract<StorageOptions, { kind: 'postgres' }>, onQuery?: () => void): Promise<Storage> {
  const { url, poolSize } = options;
  const pool = openPostgres(url, { poolSize });
  const opened: (() => Promise<void>)[] = [() => pool.end()];
  const close = async () => {
    for (const step of opened.reverse()) await step();
  };
  try {
    // One listening session for the store and the projections: PostgreSQL wakes every one at each NOTIFY.
    const notifications = await createNotificationListener(url);
    opened.push(() => notifications.close());
    const store = await createPostgresEventStore({ pool, connectionString: url, notifications });
    opened.push(() => store.close());
    const projections = usersModule.postgres.projections;
    await preparePostgresReadModel(pool, projections);
    const sinks = await createPostgresProjectionSinks(pool, url, projections, notifications);
    opened.push(() => sinks.close());
    return {
      store,
      sinks: sinks.sinks,
      leases: createPostgresLeases(pool),
      readModels: { users: usersModule.postgres.readModel(pool, onQuery) },
      description: { store: 'postgres', poolSize },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
