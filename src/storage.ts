import { join } from 'node:path';
import type { EventStore, IdempotencyRetention } from './kernel/event-store.js';
import { localLeases, type Leases } from './kernel/leases.js';
import type { SnapshotStore } from './kernel/snapshots.js';
import { createMemorySnapshotStore } from './stores/memory/snapshots.js';
import { createPostgresSnapshotStore } from './stores/postgres/snapshots.js';
import { openSqliteSnapshotCache, type SnapshotsSetAside } from './stores/sqlite/snapshots.js';
import type { ProjectionSink } from './kernel/projector.js';
import type { RebuildRequests } from './kernel/rebuild-requests.js';
import { createMemoryEventStore } from './stores/memory/event-store.js';
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
import { createSqliteBlueGreen, removeLeftoverBuilds } from './stores/sqlite/blue-green.js';
import { createSqliteRebuildRequests } from './stores/sqlite/rebuild-requests.js';
import { createPostgresBlueGreen } from './stores/postgres/blue-green.js';
import { createPostgresRebuildRequests, preparePostgresRebuildRequests } from './stores/postgres/rebuild-requests.js';
import { openReadDatabase, rebuildReadModel, reportOnStderr, type ReadModelRepair } from './stores/sqlite/read-database.js';
import { vacuumDueFile } from './stores/sqlite/vacuum-due.js';
import type { AnyModule, ModuleWiring } from './module.js';
import { createUpcasting, withUpcasting, type Upcasting } from './kernel/upcasting.js';
import { randomBytes } from 'node:crypto';
import { masterKey as masterKeyFrom, type MasterKey } from './kernel/crypto/master-key.js';
import type { SecretKey } from './kernel/crypto/aead.js';
import type { PersonalDataPolicy } from './kernel/personal-data.js';
import { withSealedSnapshots } from './kernel/sealed-snapshots.js';
import { defaultSqliteMasterKey } from './stores/master-key-source.js';
import { sealedEventStore } from './stores/sealed-storage.js';
import { StartupRefusal } from './startup-refusal.js';

/** The master key (MASTER_KEY / MASTER_KEY_FILE), and whether a store whose events are not all sealed is refused (`serve` does). */
export type SealingOptions = Readonly<{ masterKey?: MasterKey | undefined; refuseUnsealedEvents?: boolean }>;

export type StorageOptions =
  | Readonly<{
      kind: 'sqlite';
      dataDir: string;
      durability: Durability;
      /** Page cache of read.db; a replay inserts nowhere near key order, so `rebuild` keeps the indexes in memory. */
      readCacheMiB?: number;
      /** How a damaged read.db being set aside and rebuilt is told; one line each on stderr by default. */
      reportRepair?: (repair: ReadModelRepair) => void;
      /** How a damaged snapshots.db being set aside (and started afresh) is told; a line on stderr by default. */
      reportSnapshotsSetAside?: (setAside: SnapshotsSetAside) => void;
      /**
       * Files to read in full first (`PRAGMA quick_check`), so damage in any page is found before
       * anything is changed: `migrate` checks both, `rebuild` the log. Too slow for every start.
       */
      fullCheck?: readonly ('events.db' | 'read.db')[];
    }> &
      SealingOptions
  | (Readonly<{ kind: 'postgres'; url: string; poolSize: number }> & SealingOptions)
  /** Nothing kept: for tests and trying the API out. Each open is a new, empty world. */
  | Readonly<{ kind: 'memory' }>;

/** What storage hands the modules besides their read model. */
export type StorageWiring = Omit<ModuleWiring<never>, 'readModel'>;

/** The event store, the projections' sinks and the read models, on one kind of store. */
export type Storage = Readonly<{
  store: EventStore;
  sinks: readonly ProjectionSink[];
  /** Folded streams kept as a cache (SQLite: snapshots.db beside events.db; PostgreSQL: a table). */
  snapshots: SnapshotStore;
  /** Who runs each projection: PostgreSQL elects one instance; SQLite has only this process. */
  leases: Leases;
  /** Where `npm run rebuild` asks the running system for blue/green builds; none in memory. */
  rebuildRequests?: RebuildRequests;
  /** Registers every module's handlers, each with its read model opened on this store. */
  registerModules: (wiring: StorageWiring) => void;
  /** Keys the idempotency records' request hashes (derived from the master key), so they are no plain hash of an email. */
  requestHashKey: SecretKey;
  /** What was opened, for the start-up log (never the connection URL: it may hold a password). */
  description: Readonly<Record<string, unknown>>;
  close: () => Promise<void>;
}>;

export type StorageHooks = Readonly<{
  /** Called once per read-model query; lets tests count DataLoader batching. */
  onReadModelQuery?: () => void;
  /** Test seam (SQLite): projections run beside the modules' own (e.g. one that fails on a chosen event). */
  extraSqliteProjections?: readonly SqliteProjection[];
  /** How long idempotency records answer, and the clock they are stamped by. @default DEFAULT_IDEMPOTENCY_RETENTION */
  idempotencyRetention?: IdempotencyRetention;
}>;

/**
 * Opens and migrates the store for these modules (SQLite: under the data
 * directory's one-writer lock, held until `close`).
 */
export async function openStorage(options: StorageOptions, modules: readonly AnyModule[], hooks: StorageHooks = {}): Promise<Storage> {
  checkModules(modules);
  // Every reader of the store opened here sees events upcast to their newest version.
  const upcasting = upcastingOf(modules);
  switch (options.kind) {
    case 'sqlite':
      return withDataDirLock(options.dataDir, () => openSqliteStorage(options, modules, hooks, upcasting));
    case 'postgres':
      return openPostgresStorage(options, modules, hooks, upcasting);
    case 'memory':
      return openMemoryStorage(modules, hooks, upcasting);
  }
}

/** The modules' personal-data policies (src/kernel/personal-data.ts). */
const policiesOf = (modules: readonly AnyModule[]): PersonalDataPolicy[] => modules.flatMap((m) => (m.personalData ? [m.personalData] : []));

/** The modules' event versions and upcasters, checked together. */
export const upcastingOf = (modules: readonly AnyModule[]): Upcasting => createUpcasting(modules.flatMap((m) => (m.events ? [m.events] : [])));

async function openMemoryStorage(modules: readonly AnyModule[], hooks: StorageHooks, upcasting: Upcasting): Promise<Storage> {
  const { store: sealed, personal } = await sealedEventStore(
    createMemoryEventStore(retentionOf(hooks)),
    masterKeyFrom(randomBytes(32), 'generated for this memory store'),
    policiesOf(modules),
    false,
  );
  const store = withUpcasting(sealed, upcasting);
  const snapshots = withSealedSnapshots(createMemorySnapshotStore(), sealed, personal);
  const opened = modules.map((module) => ({ module, ...module.memory(hooks.onReadModelQuery ?? (() => {})) }));
  return {
    store,
    sinks: opened.flatMap(({ sinks }) => sinks),
    snapshots,
    leases: localLeases,
    requestHashKey: personal.requestHashKey,
    registerModules: registrationOf(opened),
    description: { store: 'memory' },
    close: () => store.close(),
  };
}

function checkModules(modules: readonly AnyModule[]): void {
  const seen = new Set<string>();
  for (const name of [...modules.map((m) => `module ${m.name}`), ...modules.flatMap((m) => m.sqlite.projections.map((p) => `projection ${p.name}`))]) {
    if (seen.has(name)) throw new Error(`Two modules declare the same ${name}`);
    seen.add(name);
  }
  const adopting = modules.filter((m) => m.adoptsStreamsWithoutCategory !== undefined);
  if (adopting.length > 1) throw new Error(`Only one module may adopt streams without a category: ${adopting.map((m) => m.name).join(', ')}`);
}

const retentionOf = ({ idempotencyRetention }: StorageHooks) => (idempotencyRetention ? { idempotencyRetention } : {});

/** The category old, uncategorised streams are renamed into, if a module adopts them. */
const categoryOfOldStreams = (modules: readonly AnyModule[]) => modules.find((m) => m.adoptsStreamsWithoutCategory)?.adoptsStreamsWithoutCategory;

/** A registration per module, each bound to the read model it opened on this store. */
function registrationOf(bound: readonly { module: AnyModule; readModel: unknown }[]): Storage['registerModules'] {
  return (wiring) => {
    for (const { module, readModel } of bound) module.register({ ...wiring, readModel });
  };
}

async function openSqliteStorage(
  options: Extract<StorageOptions, { kind: 'sqlite' }>,
  modules: readonly AnyModule[],
  hooks: StorageHooks,
  upcasting: Upcasting,
): Promise<Storage> {
  const onQuery = hooks.onReadModelQuery ?? (() => {});
  // The directory exists: taking its writer lock created it.
  const { dataDir, durability, reportRepair = reportOnStderr } = options;
  const eventsPath = join(dataDir, 'events.db');
  const log = openEventLog(eventsPath, () => {
    if (options.fullCheck?.includes('events.db')) quickCheckFile(eventsPath);
    const log = createSqliteEventStore({ path: eventsPath, durability, categoryOfOldStreams: categoryOfOldStreams(modules), ...retentionOf(hooks) });
    return reportDamagedReads(log, eventsPath);
  });
  // The key is checked before anything else is opened or written.
  let sealing: Awaited<ReturnType<typeof sealedEventStore<typeof log>>>;
  try {
    const key = options.masterKey ?? defaultSqliteMasterKey(dataDir, (warning) => process.stderr.write(`${warning}\n`));
    sealing = await sealedEventStore(log, key, policiesOf(modules), options.refuseUnsealedEvents ?? false);
  } catch (error) {
    await log.close();
    throw error;
  }
  const store = withUpcasting(sealing.store, upcasting);
  const projections = [...modules.flatMap((m) => m.sqlite.projections), ...(hooks.extraSqliteProjections ?? [])];
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
      readModels: modules.map((m): object => m.sqlite.readModel(db, onQuery)),
    }),
    report: reportRepair,
    erasures: { types: new Set(policiesOf(modules).map((policy) => policy.erasedBy)), due: vacuumDueFile(join(dataDir, 'read.db.vacuum-due')) },
  });
  removeLeftoverBuilds(dataDir);
  const sinks = projections.map((projection, i) => ({
    ...read.sink((built) => built.sinks[i]!),
    blueGreen: createSqliteBlueGreen({ dataDir, projection, live: read.current }),
  }));
  if (read.setAsideAtOpen) await rebuildReadModel(store, sinks, reportRepair);
  const snapshotCache = openSqliteSnapshotCache({
    path: join(dataDir, 'snapshots.db'),
    durability,
    report:
      options.reportSnapshotsSetAside ??
      (({ file, movedTo, reason }) => process.stderr.write(`${file} is damaged (${reason}): moved it to ${movedTo}; snapshots start afresh\n`)),
  });
  const snapshots = withSealedSnapshots(snapshotCache, sealing.store, sealing.personal);
  return {
    store,
    sinks,
    snapshots,
    leases: localLeases,
    requestHashKey: sealing.personal.requestHashKey,
    rebuildRequests: createSqliteRebuildRequests(dataDir),
    registerModules: registrationOf(
      modules.map((module, i) => ({ module, readModel: read.guarded((built) => built.readModels[i]!) })),
    ),
    description: { store: 'sqlite', dataDir, durability, synchronous: { events: store.synchronous(), read: synchronousOf(read.current()) } },
    close: async () => {
      await snapshots.close();
      await store.close();
      read.close();
    },
  };
}

async function openPostgresStorage(
  options: Extract<StorageOptions, { kind: 'postgres' }>,
  modules: readonly AnyModule[],
  hooks: StorageHooks,
  upcasting: Upcasting,
): Promise<Storage> {
  const onQuery = hooks.onReadModelQuery ?? (() => {});
  const { url, poolSize, masterKey } = options;
  // Before connecting: nothing is written to a store that could not seal what it is given.
  if (!masterKey) {
    throw new StartupRefusal('PostgreSQL needs a master key to seal personal data: set MASTER_KEY_FILE (a file of 32 random bytes, `openssl rand -base64 32`) or MASTER_KEY');
  }
  const pool = openPostgres(url, { poolSize });
  const opened: (() => Promise<void>)[] = [() => pool.end()];
  const close = async () => {
    for (const step of opened.reverse()) await step();
  };
  try {
    // One listening session for the store and the projections: PostgreSQL wakes every one at each NOTIFY.
    const notifications = await createNotificationListener(url);
    opened.push(() => notifications.close());
    const log = await createPostgresEventStore({
      pool,
      connectionString: url,
      notifications,
      categoryOfOldStreams: categoryOfOldStreams(modules),
      ...retentionOf(hooks),
    });
    opened.push(() => log.close());
    const sealing = await sealedEventStore(log, masterKey, policiesOf(modules), options.refuseUnsealedEvents ?? false);
    const store = withUpcasting(sealing.store, upcasting);
    const snapshots = withSealedSnapshots(await createPostgresSnapshotStore(pool), sealing.store, sealing.personal);
    const projections = modules.flatMap((m) => m.postgres.projections);
    await preparePostgresReadModel(pool, projections);
    await preparePostgresRebuildRequests(pool);
    const sinks = await createPostgresProjectionSinks(pool, url, projections, notifications);
    opened.push(() => sinks.close());
    const rebuildRequests = createPostgresRebuildRequests(pool, notifications);
    opened.push(() => rebuildRequests.close());
    return {
      store,
      sinks: sinks.sinks.map((sink, i) => ({ ...sink, blueGreen: createPostgresBlueGreen({ pool, url, projection: projections[i]! }) })),
      snapshots,
      leases: createPostgresLeases(pool),
      requestHashKey: sealing.personal.requestHashKey,
      rebuildRequests,
      registerModules: registrationOf(
        modules.map((module) => ({ module, readModel: module.postgres.readModel(pool, onQuery) })),
      ),
      description: { store: 'postgres', poolSize },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
