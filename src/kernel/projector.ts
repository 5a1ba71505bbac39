import { setTimeout as delay } from 'node:timers/promises';
import { buildBeside, createTurns, type BlueGreenSink, type BuildProgress } from './blue-green.js';
import { createCheckpointWaiters, type CheckpointWaiters } from './checkpoint-waiters.js';
import type { EventStore } from './event-store.js';
import { localLeases, type Leases } from './leases.js';
import { assertNever, type StoredEvent } from './messages.js';
import { earliestOf, LOG_START, type Position } from './position.js';
import { createProjectionLeadership, type ProjectionLeadership } from './projection-leadership.js';
import { createProjectionRetries, type ProjectionRetries } from './projection-retries.js';
import type { RebuildRequests, RequestStatus } from './rebuild-requests.js';
import { UnreadableEvent } from './upcasting.js';
import { createWakeSignal, type WakeSignal } from './wake-signal.js';
import { shareReads, type EventReader } from './shared-reads.js';

/**
 * Where a projection keeps its rows and its checkpoint. `apply` must write
 * both in one transaction, so an event's effect is there exactly once no
 * matter where a crash falls.
 */
export interface ProjectionSink {
  readonly name: string;
  checkpoint(): Promise<Position>;
  /**
   * Applies events that follow `from` and moves the checkpoint to the last
   * one. Returns false, writing nothing, when the stored checkpoint is no
   * longer `from` (another runner or a rebuild moved it).
   */
  apply(events: readonly StoredEvent[], from: Position): Promise<boolean>;
  /** Empties the read model and sets the checkpoint back to the start, atomically. */
  reset(): Promise<void>;
  /**
   * Wake-up after another process moved the checkpoint, for sinks shared
   * between processes; lets an instance that does not run the projection
   * answer read-your-writes waits without polling.
   */
  onCheckpointMoved?(listener: () => void): () => void;
  /**
   * The read model was replaced by an empty one under a running projector
   * (a damaged file set aside): the projector takes the checkpoint up again,
   * from the start of the log, instead of carrying on from where it was.
   */
  onRestart?(listener: () => void): () => void;
  /** Versions and builds beside the live read model (src/kernel/blue-green.ts); without it, rebuilds happen in place only. */
  readonly blueGreen?: BlueGreenSink;
}

/**
 * The events of a batch that a projection declared it handles. Sinks apply
 * only these and still move the checkpoint to the batch's end, so a
 * projection never sees another aggregate's events, nor re-reads them.
 */
export function eventsHandledBy(eventTypes: readonly string[]): (events: readonly StoredEvent[]) => readonly StoredEvent[] {
  const handled = new Set(eventTypes);
  return (events) => (events.every((event) => handled.has(event.type)) ? events : events.filter((event) => handled.has(event.type)));
}

/**
 * Told of every change to a projection's read model before the projector
 * records the new checkpoint, so that whoever keeps something derived from
 * the read model (the response cache) is never behind a checkpoint that
 * readers can see. The projector awaits `moved`; neither may throw.
 */
export type ProjectionListener = Readonly<{
  /** This process applied `events` (committed) and is about to record the checkpoint after them. */
  applied: (projection: string, events: readonly StoredEvent[]) => void;
  /** Another runner moved the checkpoint (forward, or back to the start after a reset); learnt from the sink. */
  moved: (projection: string, from: Position, to: Position) => Promise<void>;
  /** The projection's read model was swapped for another (a rebuild beside the live one): nothing derived from it holds. */
  replaced: (projection: string) => void;
}>;

const NO_LISTENER: ProjectionListener = { applied: () => {}, moved: async () => {}, replaced: () => {} };

/**
 * `running`: applying or idle at the head. `retrying`: the last attempt
 * failed and it is backing off. `halted`: an event kept failing; the
 * projection stays at the event before it until `resume` or a restart.
 */
export type ProjectionState = 'running' | 'retrying' | 'halted';

export type ProjectionStatus = Readonly<{
  name: string;
  state: ProjectionState;
  /** True when this process runs the projection; others only watch its checkpoint. */
  leader: boolean;
  /** The checkpoint as clients see positions. */
  position: string;
  /** Roughly how many events in the store this projection has not applied yet. */
  lag: number;
  /** Position (as clients see it) of the event it halted on; the checkpoint is the one before. Null unless halted. */
  haltedAt: string | null;
  lastError: string | null;
  /** Sinks that build beside (blueGreen): the version the live read model was built by; null for a new projection not yet built, or not known here. */
  version?: number | null;
  /** Sinks that build beside: a blue/green build running in this process, or null: the live read model is the one served. */
  build?: BuildStatus | null;
}>;

/** A build's progress as /health shows it (positions as clients see them). */
export type BuildStatus = Readonly<{
  state: BuildProgress['state'];
  version: number;
  position: string;
  head: string;
  applied: number;
  total: number;
  eventsPerSecond: number;
  lastError: string | null;
}>;

export type ProjectorOptions = Readonly<{
  store: EventStore;
  sinks: readonly ProjectionSink[];
  /** Who runs each projection when several processes share the store; by default this process always does. */
  leases?: Leases;
  /** Events read and applied per transaction. */
  batchSize?: number;
  /** Events per transaction of a blue/green build, which reads far more than a live batch. @default 5000 */
  buildBatchSize?: number;
  /** Fallback wake-up when no signal arrives, and how often a non-leader asks for the lease. */
  pollIntervalMs?: number;
  /**
   * Retries of one failing event, with exponential backoff, before the
   * projection halts on it. A halted projection never skips the event.
   * @default 10
   */
  maxRetries?: number;
  /** First backoff; it doubles per retry up to 30 s. @default 200 */
  retryDelayMs?: number;
  onError?: (sink: string, error: unknown) => void;
  onHalt?: (sink: string, position: Position, error: unknown) => void;
  onLeadership?: (sink: string, leader: boolean) => void;
  /** Where `npm run rebuild` asks a running system for builds (src/kernel/rebuild-requests.ts). */
  rebuildRequests?: RebuildRequests;
  /** A blue/green build started, switched, was aborted (stop, lost lease) or failed to start. */
  onBuild?: (sink: string, event: BuildEvent) => void;
  listener?: ProjectionListener;
}>;

export type BuildEvent =
  | Readonly<{ type: 'started'; version: number; liveVersion: number | null }>
  | Readonly<{ type: 'switched'; version: number; applied: number; seconds: number }>
  | Readonly<{ type: 'aborted' }>
  | Readonly<{ type: 'failed'; error: unknown }>
  /** This process runs older code than the live read model's: it keeps it, and builds nothing. */
  | Readonly<{ type: 'newer-live'; version: number; liveVersion: number }>;

export type Projector = Readonly<{
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /**
   * Resolves true once every projection has passed `position`, false after
   * `timeoutMs`, and false at once when a halted projection stands before it.
   */
  waitFor: (position: Position, timeoutMs: number) => Promise<boolean>;
  status: () => Promise<readonly ProjectionStatus[]>;
  /** The lowest checkpoint of all projections: every read model has passed it. */
  position: () => Position;
  /** Takes a halted projection up again at its checkpoint, with a fresh retry budget. False when it was not halted. */
  resume: (name: string) => boolean;
  /**
   * Asks for a blue/green build of `name` from the start of the log, as
   * `npm run rebuild` does through the store. Runs where the projection's
   * lease is held: false when this process does not run it, or the sink
   * cannot build beside.
   */
  requestBuild: (name: string) => boolean;
}>;

type Health = { state: ProjectionState; haltedAt: Position | null; lastError: string | null };

/** The options with their defaults filled in. */
type Settings = Required<Omit<ProjectorOptions, 'rebuildRequests'>> & Pick<ProjectorOptions, 'rebuildRequests'>;

/** What the projector and its loops, one per projection, share. */
type Shared = {
  readonly settings: Settings;
  readonly health: Map<string, Health>;
  readonly progress: CheckpointWaiters;
  /** Wakes a halted loop: set while it waits for `resume`. */
  readonly resumed: Map<string, () => void>;
  /** Projections whose read model was replaced by an empty one since their loop last looked. */
  readonly restarted: Set<string>;
  readonly leaders: Set<string>;
  /** Each projection's loop, for what callers ask of it (builds). */
  readonly runs: Map<string, Run>;
  /** The live versions read at start, before any loop ran. */
  readonly startVersions: Map<string, number | null>;
  readonly signal: WakeSignal;
  /** The live loops' reads of the log: loops woken by one append read (and open) its batch once. */
  readonly reads: EventReader;
  running: boolean;
  stopping: AbortController;
};

export function createProjector(options: ProjectorOptions): Projector {
  const shared = createShared(options);
  const { store, sinks } = shared.settings;
  let loops: Promise<void>[] = [];
  let unsubscribe: (() => void)[] = [];

  return {
    start: async () => {
      if (shared.running) return;
      shared.running = true;
      shared.stopping = new AbortController();
      for (const sink of sinks) shared.progress.record(sink.name, await sink.checkpoint());
      await adoptNewProjections(shared);
      unsubscribe = listenForWakeUps(shared);
      loops = [...sinks.map((sink) => runLoop(shared, sink)), ...(shared.settings.rebuildRequests ? [takeRequests(shared)] : [])];
    },
    stop: async () => {
      shared.running = false;
      shared.stopping.abort();
      for (const stop of unsubscribe) stop();
      shared.signal.notify();
      await Promise.all(loops);
      shared.progress.releaseAll();
    },
    waitFor: (position, timeoutMs) => shared.progress.waitFor(position, timeoutMs),
    position: () => (sinks.length === 0 ? LOG_START : earliestOf(sinks.map((sink) => shared.progress.checkpointOf(sink.name)))),
    status: async () => {
      const head = await store.headPosition();
      return sinks.map((sink) => statusOf(shared, sink.name, head));
    },
    resume: (name) => {
      const state = shared.health.get(name);
      if (state?.state !== 'halted') return false;
      // Keeps lastError until an apply succeeds, so /health still says why it had stopped.
      Object.assign(state, { state: 'running', haltedAt: null });
      shared.resumed.get(name)?.();
      return true;
    },
    requestBuild: (name) => {
      const run = shared.runs.get(name);
      if (!run?.sink.blueGreen || !run.leadership.isLeader()) return false;
      run.wanted.push(null);
      shared.signal.notify();
      return true;
    },
  };
}

function createShared(options: ProjectorOptions): Shared {
  const { leases = localLeases, batchSize = 1000, buildBatchSize = 5000, pollIntervalMs = 1000, maxRetries = 10, retryDelayMs = 200 } = options;
  const { onError = () => {}, onHalt = () => {}, onLeadership = () => {}, onBuild = () => {}, listener = NO_LISTENER } = options;
  const health = new Map<string, Health>();
  /** A halted projection will not pass its poisoned event on its own: waiting for it or beyond is pointless. */
  const blockedAt = (position: Position) =>
    [...health.values()].some((h) => h.state === 'halted' && h.haltedAt !== null && h.haltedAt <= position);
  return {
    settings: { ...options, leases, batchSize, buildBatchSize, pollIntervalMs, maxRetries, retryDelayMs, onError, onHalt, onLeadership, onBuild, listener },
    health,
    progress: createCheckpointWaiters(
      options.sinks.map((sink) => sink.name),
      blockedAt,
    ),
    resumed: new Map(),
    restarted: new Set(),
    leaders: new Set(),
    runs: new Map(),
    startVersions: new Map(),
    signal: createWakeSignal(),
    reads: shareReads(options.store),
    running: false,
    stopping: new AbortController(),
  };
}

/** Appends wake every loop; a sink's own signals wake the loops that need them. */
function listenForWakeUps(shared: Shared): (() => void)[] {
  const { store, sinks } = shared.settings;
  const { signal, leaders, restarted } = shared;
  const wake = () => signal.notify();
  // A leader moved its own checkpoint and already knows; only the other instances need waking.
  const wakeUnlessLeading = (name: string) => () => {
    if (!leaders.has(name)) signal.notify();
  };
  return [
    store.onAppended(wake),
    ...sinks.map((sink) => sink.onCheckpointMoved?.(wakeUnlessLeading(sink.name)) ?? (() => {})),
    ...sinks.map(
      (sink) =>
        sink.onRestart?.(() => {
          restarted.add(sink.name);
          signal.notify();
        }) ?? (() => {}),
    ),
  ];
}

function statusOf(shared: Shared, name: string, head: Position): ProjectionStatus {
  const { store } = shared.settings;
  const run = shared.runs.get(name);
  const checkpoint = shared.progress.checkpointOf(name);
  const { state, haltedAt, lastError } = shared.health.get(name) ?? { state: 'running', haltedAt: null, lastError: null };
  return {
    name,
    state,
    leader: shared.leaders.has(name),
    position: store.formatPosition(checkpoint),
    lag: store.estimateEventsBetween(checkpoint, head),
    haltedAt: haltedAt === null ? null : store.formatPosition(haltedAt),
    lastError,
    ...(run?.sink.blueGreen ? { version: run.liveVersion, build: run.build ? buildStatusOf(store, run.build.progress) : null } : {}),
  };
}

const buildStatusOf = (store: EventStore, progress: BuildProgress): BuildStatus => ({
  state: progress.state,
  version: progress.version,
  position: store.formatPosition(progress.position),
  head: store.formatPosition(progress.head),
  applied: progress.applied,
  total: progress.total,
  eventsPerSecond: progress.eventsPerSecond,
  lastError: progress.lastError,
});

/** One projection's loop and what it alone keeps. */
type Run = {
  readonly sink: ProjectionSink;
  readonly health: Health;
  readonly retries: ProjectionRetries;
  readonly leadership: ProjectionLeadership;
  /** Live batches and a build's switch take turns. */
  readonly turns: <T>(work: () => Promise<T>) => Promise<T>;
  /** Builds asked for and not begun: request ids from the store, null for `requestBuild`. */
  readonly wanted: (string | null)[];
  /** Whether the live version was compared with the code's since this process became the leader. */
  versionChecked: boolean;
  /** The live read model's version, as last read; null: none was built yet (or not read). */
  liveVersion: number | null;
  /** When a follower last read it (performance.now()). */
  versionReadAt: number;
  build: RunningBuild | null;
};

type RunningBuild = {
  progress: BuildProgress;
  /** The requests (`npm run rebuild`) this build answers. */
  readonly requests: string[];
  readonly abort: AbortController;
  readonly done: Promise<void>;
};

async function runLoop(shared: Shared, sink: ProjectionSink): Promise<void> {
  const { settings, leaders } = shared;
  const run: Run = {
    sink,
    health: { state: 'running', haltedAt: null, lastError: null },
    retries: createProjectionRetries(settings),
    turns: createTurns(),
    wanted: [],
    versionChecked: false,
    liveVersion: shared.startVersions.get(sink.name) ?? null,
    versionReadAt: performance.now(),
    build: null,
    leadership: createProjectionLeadership({
      name: sink.name,
      leases: settings.leases,
      bidIntervalMs: settings.pollIntervalMs,
      onChange: (leader) => {
        if (leader) leaders.add(sink.name);
        else leaders.delete(sink.name);
        settings.onLeadership(sink.name, leader);
      },
      onError: (error) => settings.onError(sink.name, error),
    }),
  };
  shared.health.set(sink.name, run.health);
  shared.runs.set(sink.name, run);
  while (shared.running) {
    if (run.health.state === 'halted') {
      await untilResumed(shared, sink.name);
      run.retries.resumed();
      continue;
    }
    await step(shared, run);
  }
  run.build?.abort.abort();
  await run.build?.done;
  await run.leadership.release();
}

/** Waits for `resume` (or `stop`) while the projection is halted. */
async function untilResumed(shared: Shared, name: string): Promise<void> {
  await new Promise<void>((resolve) => {
    shared.resumed.set(name, resolve);
    shared.stopping.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  shared.resumed.delete(name);
}

/** Applies the next batch as the leader, or follows the leader's checkpoint; a failure is handled, never thrown. */
async function step(shared: Shared, run: Run): Promise<void> {
  const { pollIntervalMs } = shared.settings;
  const { sink, retries, leadership } = run;
  const seen = shared.signal.version();
  let events: readonly StoredEvent[] = [];
  try {
    if (shared.restarted.delete(sink.name)) {
      retries.restarted();
      await refreshCheckpoint(shared, sink);
    }
    // The previous leader may have moved the checkpoint since we last looked.
    if (await leadership.renew()) {
      run.versionChecked = false;
      await refreshCheckpoint(shared, sink);
    }
    if (!leadership.isLeader()) {
      // A build of this process stops with its lease: the new leader decides afresh.
      run.build?.abort.abort();
      await refreshCheckpoint(shared, sink);
      await followVersion(shared, run);
      await shared.signal.wait(seen, pollIntervalMs);
      return;
    }
    if (sink.blueGreen) await superviseBuild(shared, run, sink.blueGreen);
    if (run.build && run.liveVersion === null) {
      // A new projection: nothing live to feed until its first build switches in.
      await shared.signal.wait(seen, pollIntervalMs);
      return;
    }
    const from = shared.progress.checkpointOf(sink.name);
    const limit = retries.readLimit();
    events = await shared.reads.readAll({ after: from, limit });
    if (events.length === 0) {
      await shared.signal.wait(seen, pollIntervalMs);
      return;
    }
    const applied = await applyBatch(shared, run, events, from);
    // A short batch was everything the store held: reading again before the next append
    // would come back empty (a round trip per batch on PostgreSQL).
    if (applied && events.length < limit) await shared.signal.wait(seen, pollIntervalMs);
  } catch (error) {
    await afterFailure(shared, run, events, error);
  }
}

/** True when the sink applied the batch; false when another runner had moved its checkpoint. */
async function applyBatch(shared: Shared, run: Run, events: readonly StoredEvent[], from: Position): Promise<boolean> {
  const { sink } = run;
  const applied = await run.turns(() => sink.apply(events, from));
  const last = events[events.length - 1]!.position;
  if (applied) {
    shared.settings.listener.applied(sink.name, events);
    shared.progress.record(sink.name, last);
  } else await refreshCheckpoint(shared, sink);
  run.retries.succeeded(last);
  Object.assign(run.health, { state: 'running', lastError: null });
  shared.progress.settle();
  return applied;
}

async function afterFailure(shared: Shared, run: Run, events: readonly StoredEvent[], error: unknown): Promise<void> {
  const { sink, health } = run;
  health.lastError = error instanceof Error ? error.message : String(error);
  shared.settings.onError(sink.name, error);
  // The failed batch wrote nothing: keep reporting (and releasing waiters up to) the stored checkpoint.
  await refreshCheckpoint(shared, sink).catch(() => {});
  // The log stops a read right before an event it cannot upcast, and a read starting there fails on it (UnreadableEvent).
  // Upcasters are pure, so retrying cannot help: halt on that event at once.
  const verdict = error instanceof UnreadableEvent ? ({ type: 'halt', at: error.event.position } as const) : run.retries.failed(events);
  switch (verdict.type) {
    case 'isolate':
      shared.progress.settle();
      return;
    case 'halt':
      Object.assign(health, { state: 'halted', haltedAt: verdict.at });
      shared.settings.onHalt(sink.name, verdict.at, error);
      shared.progress.settle();
      return;
    case 'retry':
      health.state = 'retrying';
      shared.progress.settle();
      // Appends must not cut the backoff short; only stop() may.
      await delay(verdict.backoffMs, undefined, { signal: shared.stopping.signal }).catch(() => {});
      return;
    default:
      assertNever(verdict, 'failure verdict');
  }
}

async function refreshCheckpoint(shared: Shared, sink: ProjectionSink): Promise<void> {
  const checkpoint = await sink.checkpoint();
  const previous = shared.progress.checkpointOf(sink.name);
  if (checkpoint !== previous) await shared.settings.listener.moved(sink.name, previous, checkpoint);
  shared.progress.record(sink.name, checkpoint);
  shared.progress.settle();
}

/**
 * Before anything is served: a new projection on an empty log is simply
 * live at its version (there is nothing to build beside), decided before a
 * first write can make the log non-empty. So is every projection of a read
 * store that has no live read model at all (a first start on an existing
 * log, a read.db deleted): nothing is being served that a build beside would
 * protect, and it fills in place as it always did. A new projection beside
 * live ones, on a log with events, serves nothing until its first build
 * switches in, and holds no read-your-writes wait meanwhile.
 */
async function adoptNewProjections(shared: Shared): Promise<void> {
  const { store, sinks } = shared.settings;
  const versions = new Map<string, number | null>();
  for (const { name, blueGreen } of sinks) if (blueGreen) versions.set(name, await blueGreen.liveVersion());
  const nothingLive = [...versions.values()].every((version) => version === null);
  const empty = (await store.headPosition()) === LOG_START;
  for (const { name, blueGreen } of sinks) {
    if (!blueGreen) continue;
    const live = versions.get(name) ?? null;
    shared.startVersions.set(name, live);
    if (live !== null) continue;
    if (empty || nothingLive) {
      await blueGreen.adopt();
      shared.startVersions.set(name, await blueGreen.liveVersion());
    } else {
      shared.progress.ignore(name, true);
    }
  }
}

/**
 * As the leader: compares the live version with the code's once per
 * leadership, and takes requests; starts a build beside when one is due.
 */
async function superviseBuild(shared: Shared, run: Run, blueGreen: BlueGreenSink): Promise<void> {
  if (run.build) {
    // Requests that arrive during a build are answered by its switch: it started from the log's start too.
    for (const id of run.wanted.splice(0)) if (id !== null) run.build.requests.push(id);
    return;
  }
  if (run.versionChecked && run.wanted.length === 0) return;
  const { store } = shared.settings;
  const live = await blueGreen.liveVersion();
  run.liveVersion = live;
  run.versionChecked = true;
  const requested = run.wanted.splice(0);
  if (live !== null && live > blueGreen.version) {
    shared.settings.onBuild(run.sink.name, { type: 'newer-live', version: blueGreen.version, liveVersion: live });
    await answer(shared, requested, failedStatus(`the live read model is version ${live}, newer than this process's ${blueGreen.version}: upgrade it`));
    return;
  }
  if (live === blueGreen.version && requested.length === 0) return;
  if (live === null && (await store.headPosition()) === LOG_START) {
    // A new projection on an empty log: there is nothing to build beside.
    await blueGreen.adopt();
    run.liveVersion = blueGreen.version;
    await answer(shared, requested, { ...doneStatus, position: store.formatPosition(LOG_START), head: store.formatPosition(LOG_START) });
    return;
  }
  startBuild(shared, run, blueGreen, live, requested);
}

function startBuild(shared: Shared, run: Run, blueGreen: BlueGreenSink, live: number | null, requested: readonly (string | null)[]): void {
  const { store, buildBatchSize, retryDelayMs, onBuild, onError } = shared.settings;
  const { name } = run.sink;
  const abort = new AbortController();
  const stopping = () => abort.abort();
  shared.stopping.signal.addEventListener('abort', stopping, { once: true });
  if (live === null) shared.progress.ignore(name, true);
  const started = performance.now();
  let lastReport = 0;
  const requests = requested.filter((id): id is string => id !== null);
  const build: RunningBuild = {
    progress: { state: 'building', version: blueGreen.version, liveVersion: live, position: LOG_START, head: LOG_START, applied: 0, total: 0, eventsPerSecond: 0, lastError: null },
    requests,
    abort,
    done: Promise.resolve(),
  };
  const publish = (progress: BuildProgress, force: boolean) => {
    build.progress = progress;
    // The command polls a few times a second; the store need not be written at every batch.
    if (!force && performance.now() - lastReport < 250) return;
    lastReport = performance.now();
    void answer(shared, build.requests, requestStatusOf(store, progress)).catch((error: unknown) => onError(name, error));
  };
  onBuild(name, { type: 'started', version: blueGreen.version, liveVersion: live });
  run.build = build;
  (build as { done: Promise<void> }).done = buildBeside({
    store,
    blueGreen,
    liveVersion: live,
    batchSize: buildBatchSize,
    retryDelayMs,
    signal: abort.signal,
    exclusive: run.turns,
    onProgress: (progress) => publish(progress, progress.state === 'switching'),
    onError: (error) => onError(name, error),
  })
    .then(
      async (outcome) => {
        // Together, so that no status shows the new version with its build still running.
        run.build = null;
        if (outcome === 'switched') {
          run.liveVersion = blueGreen.version;
          // A new version may answer differently from the old: nothing cached from before the switch holds.
          shared.settings.listener.replaced(name);
          await refreshCheckpoint(shared, run.sink);
          onBuild(name, { type: 'switched', version: blueGreen.version, applied: build.progress.applied, seconds: (performance.now() - started) / 1000 });
          await answer(shared, build.requests, { ...requestStatusOf(store, build.progress), state: 'done' });
        } else {
          onBuild(name, { type: 'aborted' });
          await answer(shared, build.requests, failedStatus('the build stopped: the server stopped or lost the projection to another instance; run it again'));
        }
      },
      async (error: unknown) => {
        run.build = null;
        onBuild(name, { type: 'failed', error });
        await answer(shared, build.requests, failedStatus(error instanceof Error ? error.message : String(error)));
      },
    )
    .catch((error: unknown) => onError(name, error))
    .finally(() => {
      shared.stopping.signal.removeEventListener('abort', stopping);
      shared.progress.ignore(name, run.liveVersion === null);
      run.build = null;
      shared.progress.settle();
      shared.signal.notify();
    });
}

/** A follower of a new projection another instance builds: its empty read model must not hold read-your-writes waits. */
/**
 * A follower learns the live version another instance's switch wrote, at
 * most once per poll interval (it wakes at every checkpoint move). A new
 * projection another instance builds serves nothing yet: its empty read
 * model must not hold read-your-writes waits here either.
 */
async function followVersion(shared: Shared, run: Run): Promise<void> {
  const { blueGreen, name } = run.sink;
  if (!blueGreen || performance.now() - run.versionReadAt < shared.settings.pollIntervalMs) return;
  run.versionReadAt = performance.now();
  run.liveVersion = await blueGreen.liveVersion();
  shared.progress.ignore(name, run.liveVersion === null);
  shared.progress.settle();
}

const doneStatus: RequestStatus = { state: 'done', applied: 0, total: 0, position: '0', head: '0', eventsPerSecond: 0, error: null };
const failedStatus = (error: string): RequestStatus => ({ ...doneStatus, state: 'failed', error });

function requestStatusOf(store: EventStore, progress: BuildProgress): RequestStatus {
  return {
    state: progress.state,
    applied: progress.applied,
    total: progress.total,
    position: store.formatPosition(progress.position),
    head: store.formatPosition(progress.head),
    eventsPerSecond: progress.eventsPerSecond,
    error: progress.lastError,
  };
}

async function answer(shared: Shared, requested: readonly (string | null)[], status: RequestStatus): Promise<void> {
  const ids = requested.filter((id): id is string => id !== null);
  if (ids.length > 0) await shared.settings.rebuildRequests?.report(ids, status);
}

/** Hands requests for the projections this process leads to their loops, looking every poll interval and at each wake-up. */
async function takeRequests(shared: Shared): Promise<void> {
  const { rebuildRequests, pollIntervalMs, onError } = shared.settings;
  if (!rebuildRequests) return;
  // Its own signal: the projector's wakes at every append, and a look per append would cost a query each on PostgreSQL.
  const requested = createWakeSignal();
  const stopListening = rebuildRequests.onRequest?.(() => requested.notify()) ?? (() => {});
  while (shared.running) {
    const seen = requested.version();
    const led = [...shared.leaders].filter((name) => shared.runs.get(name)?.sink.blueGreen);
    if (led.length > 0) {
      try {
        const taken = await rebuildRequests.take(led);
        for (const { id, name } of taken) shared.runs.get(name)?.wanted.push(id);
        if (taken.length > 0) shared.signal.notify();
      } catch (error) {
        onError('rebuild-requests', error);
      }
    }
    await requested.wait(seen, pollIntervalMs, shared.stopping.signal);
  }
  stopListening();
}
