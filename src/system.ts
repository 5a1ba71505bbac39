import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createCommandBus, validation, type CommandBus } from './kernel/command-bus.js';
import type { EventStore } from './kernel/event-store.js';
import { idempotency } from './kernel/idempotency.js';
import { createProjector, type ProjectionSink, type Projector } from './kernel/projector.js';
import { createQueryBus, type QueryBus } from './kernel/query-bus.js';
import { createWakeSignal, type WakeSignal } from './kernel/wake-signal.js';
import { openSqlite, type Durability } from './stores/sqlite/database.js';
import { createSqliteEventStore } from './stores/sqlite/event-store.js';
import { createSqliteProjectionSink, prepareReadDatabase, type SqliteProjection } from './stores/sqlite/projection-sink.js';
import { commandLogging } from './server/command-logging.js';
import { usersModule } from './users/module.js';

export type SystemOptions = Readonly<{
  dataDir: string;
  durability: Durability;
  pollIntervalMs: number;
  logger: Logger;
  /** Called once per read-model query; lets tests count DataLoader batching. */
  onReadModelQuery?: () => void;
}>;

export type System = Readonly<{
  store: EventStore;
  commandBus: CommandBus;
  queryBus: QueryBus;
  projector: Projector;
  sinks: readonly ProjectionSink[];
  appended: WakeSignal;
  close: () => Promise<void>;
}>;

const projections: readonly SqliteProjection[] = [...usersModule.sqliteProjections];

/**
 * The composition root: every store, bus, module and projection is wired
 * here with plain arguments. The event log and the read model live in two
 * SQLite files; each projection's checkpoint lives beside its rows in read.db.
 */
export function openSystem(options: SystemOptions): System {
  mkdirSync(options.dataDir, { recursive: true });
  const store = createSqliteEventStore({ path: join(options.dataDir, 'events.db'), durability: options.durability });
  const readDb = openSqlite(join(options.dataDir, 'read.db'), { durability: options.durability });
  prepareReadDatabase(readDb, projections);
  const sinks = projections.map((projection) => createSqliteProjectionSink(readDb, projection));

  const commandBus = createCommandBus([commandLogging(options.logger), validation, idempotency(store)]);
  const queryBus = createQueryBus();
  usersModule.register({
    commandBus,
    queryBus,
    store,
    readDb,
    ...(options.onReadModelQuery ? { onReadModelQuery: options.onReadModelQuery } : {}),
  });

  const appended = createWakeSignal();
  const stopSignal = store.onAppended(() => appended.notify());
  const projector = createProjector({
    store,
    sinks,
    pollIntervalMs: options.pollIntervalMs,
    onError: (projection, error) => options.logger.error({ err: error, projection }, 'projection failed; retrying'),
  });

  return {
    store,
    commandBus,
    queryBus,
    projector,
    sinks,
    appended,
    close: async () => {
      stopSignal();
      await projector.stop();
      await store.close();
      readDb.close();
    },
  };
}

/** For the rebuild command: the store and the sinks, without buses or projector. */
export function openForRebuild(dataDir: string) {
  const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
  const readDb = openSqlite(join(dataDir, 'read.db'));
  // A replay inserts in id order nowhere near key order: keep the index pages in memory (256 MB at most).
  readDb.pragma('cache_size = -262144');
  prepareReadDatabase(readDb, projections);
  const sinks = projections.map((projection) => createSqliteProjectionSink(readDb, projection));
  return {
    store,
    sinks,
    close: async () => {
      await store.close();
      readDb.close();
    },
  };
}
