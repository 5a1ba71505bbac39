import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { createCommandBus, validation, type CommandBus, type CommandMiddleware } from './kernel/command-bus.js';
import { commandLogging } from './kernel/command-logging.js';
import { DEFAULT_IDEMPOTENCY_RETENTION, type EventStore } from './kernel/event-store.js';
import { idempotency } from './kernel/idempotency.js';
import { pruneIntervalFor, startIdempotencyPruner } from './kernel/idempotency-pruner.js';
import { createProjector, type BuildEvent, type ProjectionListener, type ProjectionSink, type Projector } from './kernel/projector.js';
import { createQueryBus, type QueryBus, type QueryMiddleware } from './kernel/query-bus.js';
import type { SnapshotStore } from './kernel/snapshots.js';
import { createStreamFolds, type StreamFolds } from './kernel/stream-folds.js';
import { createWakeSignal, type WakeSignal } from './kernel/wake-signal.js';
import { registerEventPageQuery } from './kernel/event-page.js';
import type { SqliteProjection } from './stores/sqlite/projection-sink.js';
import { openStorage, type StorageOptions } from './storage.js';
import { describeRepair, type ReadModelRepair } from './stores/sqlite/read-database.js';
import type { SnapshotsSetAside } from './stores/sqlite/snapshots.js';
import type { AnyModule } from './module.js';

export type SystemOptions = Readonly<{
  storage: StorageOptions;
  /** The features to run (src/modules.ts lists the server's). */
  modules: readonly AnyModule[];
  pollIntervalMs: number;
  /** How long a query after the caller's own write waits for the projections before answering from the event log. */
  readYourWritesTimeoutMs: number;
  /** The decisions' clock. @default () => new Date() */
  clock?: () => Date;
  /** Ids of new entities (UUID v7, in creation order) and of commands (UUID v4) by default. */
  newId?: () => string;
  /** Retries of a failing event before its projection halts (see ProjectorOptions.maxRetries). */
  projectionMaxRetries?: number;
  /** A snapshot every this many events of a stream (SNAPSHOT_EVERY); 0 turns them off. @default 100 */
  snapshotEvery?: number;
  logger: Logger;
  /** Called once per read-model query; lets tests count DataLoader batching. */
  onReadModelQuery?: () => void;
  /** Metrics hooks (src/server/metrics.ts): outermost bus steps and a store that counts appends. */
  instrumentation?: Instrumentation;
  /** Test seam (SQLite): projections run beside the modules' own (e.g. one that fails on a chosen event). */
  extraProjections?: readonly SqliteProjection[];
  /**
   * How long an idempotency key answers with its first outcome (IDEMPOTENCY_RETENTION_SECONDS), on `clock`;
   * expired records are pruned in the background, a tenth of this apart (at most a minute). @default 24 hours
   */
  idempotencyRetentionMs?: number;
  /** Test seam: events per transaction of a blue/green build (small, to watch one in progress). */
  buildBatchSize?: number;
  /** Told of every read-model change before its checkpoint is recorded (the response cache invalidates from it). */
  projectionListener?: (store: EventStore) => ProjectionListener;
}>;

export type Instrumentation = Readonly<{
  commands: CommandMiddleware;
  queries: QueryMiddleware;
  countAppends: (store: EventStore) => EventStore;
  /** Told how many expired idempotency records each pruning pass deleted. */
  idempotencyRecordsPruned?: (count: number) => void;
}>;

export type System = Readonly<{
  modules: readonly AnyModule[];
  store: EventStore;
  commandBus: CommandBus;
  queryBus: QueryBus;
  projector: Projector;
  sinks: readonly ProjectionSink[];
  /** Streams folded from their snapshots; `settled()` waits for snapshot writes in flight. */
  streamFolds: StreamFolds;
  /** The snapshots themselves: a cache (deleting them all changes no answer). */
  snapshots: SnapshotStore;
  appended: WakeSignal;
  close: () => Promise<void>;
}>;

/**
 * The composition root: every store, bus, module and projection is wired
 * here with plain arguments.
 */
export async function openSystem(options: SystemOptions): Promise<System> {
  const { logger, instrumentation } = options;
  const clock = options.clock ?? (() => new Date());
  const idempotencyRetention = { windowMs: options.idempotencyRetentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION.windowMs, clock };
  const storageOptions =
    options.storage.kind === 'sqlite'
      ? {
          ...options.storage,
          reportRepair: logRepair(logger),
          reportSnapshotsSetAside: (setAside: SnapshotsSetAside) =>
            logger.warn({ snapshotsSetAside: setAside }, 'snapshots.db was damaged: set aside, snapshots start afresh (a cache: nothing is lost)'),
        }
      : options.storage;
  const storage = await openStorage(storageOptions, options.modules, {
    ...(options.onReadModelQuery ? { onReadModelQuery: options.onReadModelQuery } : {}),
    ...(options.extraProjections ? { extraSqliteProjections: options.extraProjections } : {}),
    idempotencyRetention,
  });
  // Read back from the connections: what is logged is what commits really do.
  logger.info(storage.description, 'storage opened');
  const { sinks } = storage;
  const store = instrumentation ? instrumentation.countAppends(storage.store) : storage.store;

  const commandBus = createCommandBus({
    middlewares: [...(instrumentation ? [instrumentation.commands] : []), commandLogging(logger), validation, idempotency(store, storage.requestHashKey)],
    clock,
    newId: randomUUID,
  });

  const queryBus = createQueryBus({
    middlewares: instrumentation ? [instrumentation.queries] : [],
    progress: { reached: (position) => projector.waitFor(position, options.readYourWritesTimeoutMs) },
    // The commit-to-checkpoint wait, one line per write at debug: `npm run bench` reads its percentiles from here.
    onWait: (waitedMs, reached) => logger.debug({ waitedMs, reached }, 'read-your-writes wait'),
  });
  const streamFolds = createStreamFolds({
    eventLog: store,
    snapshots: storage.snapshots,
    every: options.snapshotEvery ?? 100,
    // A snapshot is a cache: failing to read or write one costs a longer read, never an answer.
    onError: (error, context) =>
      logger.warn(
        { err: error, ...context },
        context.action === 'load' ? 'snapshot not used; reading the stream from its start' : 'snapshot not written; readers read further until the next',
      ),
  });
  storage.registerModules({ commandBus, queryBus, eventLog: store, positions: store, streamFolds, newId: options.newId ?? uuidv7 });
  registerEventPageQuery({ queryBus, eventLog: store, positions: store });

  const appended = createWakeSignal();
  const stopSignal = store.onAppended(() => appended.notify());
  const projector = createProjector({
    store,
    sinks,
    leases: storage.leases,
    pollIntervalMs: options.pollIntervalMs,
    ...(options.projectionListener ? { listener: options.projectionListener(store) } : {}),
    ...(options.projectionMaxRetries !== undefined ? { maxRetries: options.projectionMaxRetries } : {}),
    onError: (projection, error) => logger.error({ err: error, projection }, 'projection failed; retrying'),
    onHalt: (projection, position, error) =>
      logger.error(
        { err: error, projection, position: store.formatPosition(position) },
        'projection halted on an event it keeps failing; fix the cause, then restart the server',
      ),
    onLeadership: (projection, leader) =>
      logger.info({ projection }, leader ? 'running projection here' : 'no longer running projection here'),
    ...(storage.rebuildRequests ? { rebuildRequests: storage.rebuildRequests } : {}),
    ...(options.buildBatchSize ? { buildBatchSize: options.buildBatchSize } : {}),
    onBuild: logBuild(logger),
  });

  const pruner = startIdempotencyPruner({
    records: store,
    intervalMs: pruneIntervalFor(idempotencyRetention.windowMs),
    onPruned: (pruned, batches) => {
      instrumentation?.idempotencyRecordsPruned?.(pruned);
      logger.debug({ pruned, batches }, 'expired idempotency records pruned');
    },
    onError: (error) => logger.warn({ err: error }, 'pruning expired idempotency records failed; trying again at the next pass'),
  });

  return {
    modules: options.modules,
    store,
    commandBus,
    queryBus,
    projector,
    sinks,
    streamFolds,
    snapshots: storage.snapshots,
    appended,
    close: async () => {
      stopSignal();
      await projector.stop();
      await pruner.stop();
      await streamFolds.settled();
      await storage.close();
    },
  };
}

/** Blue/green builds (src/kernel/blue-green.ts), one line at each step. */
const logBuild = (logger: Logger) => (projection: string, event: BuildEvent) => {
  switch (event.type) {
    case 'started':
      return logger.info({ projection, ...event }, `building ${projection} version ${event.version} beside the live read model`);
    case 'switched':
      return logger.info({ projection, ...event }, `${projection} version ${event.version} built and switched in`);
    case 'aborted':
      return logger.warn({ projection }, `build of ${projection} stopped before its switch; the live read model is unchanged`);
    case 'failed':
      return logger.error({ projection, err: event.error }, `build of ${projection} failed; the live read model is unchanged`);
    case 'newer-live':
      return logger.warn({ projection, ...event }, `${projection}: the live read model is version ${event.liveVersion}, newer than this build's ${event.version}; keeping it`);
    default:
      return event satisfies never;
  }
};

/** A damaged read model is an error worth an alert even though it repairs itself; the rebuild's progress is routine. */
const logRepair = (logger: Logger) => (repair: ReadModelRepair) => {
  const { type, ...details } = repair;
  const fields = { readModelRepair: type, ...details };
  if (repair.type === 'set-aside') logger.error(fields, describeRepair(repair));
  else if (repair.type === 'vacuum-deferred') logger.warn(fields, describeRepair(repair));
  else logger.info(fields, describeRepair(repair));
};
