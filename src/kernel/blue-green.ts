import { setImmediate as yieldToOthers, setTimeout as delay } from 'node:timers/promises';
import type { EventStore } from './event-store.js';
import type { StoredEvent } from './messages.js';
import { LOG_START, type Position } from './position.js';

/**
 * Blue/green builds: a projection whose code version differs from the one
 * its live read model was built by (or a new projection, with no live read
 * model at all, on a log that is not empty) is built again from the start of
 * the log *beside* the live one, which keeps serving reads and being fed.
 * Once the build has caught up with the head, one transaction replaces the
 * live read model by the built one, with its checkpoint and version. Until
 * that transaction commits nothing a reader sees has changed, so a crash
 * anywhere leaves either the old read model (the build starts over at the
 * next start, from scratch) or the new one: never half of each.
 *
 * How a store keeps a read model beside the live one is the adapter's
 * business: a separate database file (SQLite), a separate schema (PostgreSQL).
 */
export interface BlueGreenSink {
  /** The version the running code builds; bump it when what `apply` writes changes. */
  readonly version: number;
  /** The version the live read model was built by; null when none was ever built (a new projection). */
  liveVersion(): Promise<number | null>;
  /** Records the code's version as live at the start of the log, unless a live read model exists: a new projection on an empty log has nothing to build. */
  adopt(): Promise<void>;
  /** Throws away what an earlier build left behind (a crash, a lost lease) and opens an empty build beside the live read model. */
  beginBuild(): Promise<BesideBuild>;
}

export interface BesideBuild {
  /** As `ProjectionSink.apply`, into the build: false, writing nothing, when its checkpoint is not `from`. */
  apply(events: readonly StoredEvent[], from: Position): Promise<boolean>;
  /**
   * One transaction: the built read model replaces the live one, whose
   * checkpoint moves to `at` (the build's) and whose version becomes the
   * code's. Then what is left of the build is dropped.
   */
  switchOver(at: Position): Promise<void>;
  /** Drops the build, live read model untouched. */
  discard(): Promise<void>;
}

export type BuildState = 'building' | 'switching';

/** A build's progress, as /health, /metrics and `npm run rebuild` show it. */
export type BuildProgress = Readonly<{
  state: BuildState;
  /** The version being built, and the live one (null: a new projection, nothing served yet). */
  version: number;
  liveVersion: number | null;
  /** The build's checkpoint, and the head of the log when it last read. */
  position: Position;
  head: Position;
  applied: number;
  /** Events from the start of the log to `head`, estimated as the store estimates lag. */
  total: number;
  eventsPerSecond: number;
  lastError: string | null;
}>;

export type BuildOutcome = 'switched' | 'aborted';

export type BuildOptions = Readonly<{
  store: EventStore;
  blueGreen: BlueGreenSink;
  liveVersion: number | null;
  batchSize: number;
  retryDelayMs: number;
  /** Aborted when the build must stop: the projector stops, or this process lost the projection's lease. */
  signal: AbortSignal;
  /**
   * Runs `work` while no live batch is being applied: the last events and the
   * switch go in between two live batches, so the live checkpoint the switch
   * replaces is the one the live loop last wrote.
   */
  exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  onProgress: (progress: BuildProgress) => void;
  onError: (error: unknown) => void;
}>;

const MAX_BACKOFF_MS = 30_000;

/**
 * Builds one projection beside its live read model from the start of the
 * log, then switches. A failing batch is retried with backoff, never
 * skipped; the live read model keeps serving meanwhile, and /health shows
 * the error.
 */
export async function buildBeside(options: BuildOptions): Promise<BuildOutcome> {
  const { store, blueGreen, batchSize, signal } = options;
  const build = await blueGreen.beginBuild();
  const started = performance.now();
  let progress: BuildProgress = {
    state: 'building',
    version: blueGreen.version,
    liveVersion: options.liveVersion,
    position: LOG_START,
    head: await store.headPosition(),
    applied: 0,
    total: 0,
    eventsPerSecond: 0,
    lastError: null,
  };
  const report = (changes: Partial<BuildProgress>) => {
    const seconds = (performance.now() - started) / 1000;
    const next = { ...progress, ...changes };
    progress = {
      ...next,
      total: Math.max(next.applied, store.estimateEventsBetween(LOG_START, next.head)),
      eventsPerSecond: seconds > 0 ? Math.round(next.applied / seconds) : 0,
    };
    options.onProgress(progress);
  };
  let headReadAt = performance.now();
  /** One batch into the build; false when the log had nothing after the build's checkpoint. */
  const applyNext = async (): Promise<boolean> => {
    if (performance.now() - headReadAt > 1000) {
      headReadAt = performance.now();
      report({ head: await store.headPosition() });
    }
    const events = await store.readAll({ after: progress.position, limit: batchSize });
    if (events.length === 0) return false;
    if (!(await build.apply(events, progress.position))) {
      throw new Error(`the build of ${store.formatPosition(progress.position)} moved under this process: is another instance building it too?`);
    }
    report({ position: events[events.length - 1]!.position, applied: progress.applied + events.length, lastError: null });
    return true;
  };

  report({});
  let failures = 0;
  try {
    for (;;) {
      if (signal.aborted) {
        await build.discard();
        return 'aborted';
      }
      try {
        if (await applyNext()) {
          failures = 0;
          // An embedded store reads and writes synchronously: without a turn of the event loop
          // between batches, a build would hold every request until it ends.
          await yieldToOthers();
          continue;
        }
        // Caught up: the few events appended since, then the switch, between two live batches.
        report({ state: 'switching', head: await store.headPosition() });
        await options.exclusive(async () => {
          if (signal.aborted) return;
          while (await applyNext());
          await build.switchOver(progress.position);
        });
        if (signal.aborted) {
          await build.discard();
          return 'aborted';
        }
        return 'switched';
      } catch (error) {
        failures += 1;
        options.onError(error);
        report({ state: 'building', lastError: error instanceof Error ? error.message : String(error), head: await store.headPosition().catch(() => progress.head) });
        const backoff = Math.min(MAX_BACKOFF_MS, options.retryDelayMs * 2 ** Math.min(failures - 1, 20));
        await delay(backoff, undefined, { signal }).catch(() => {});
      }
    }
  } catch (error) {
    await build.discard().catch(() => {});
    throw error;
  }
}

/** A lock for one projection: its live batches and a build's switch take turns. */
export function createTurns(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const turn = tail.then(work);
    tail = turn.catch(() => {});
    return turn;
  };
}
