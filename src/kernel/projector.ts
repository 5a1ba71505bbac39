import { setTimeout as delay } from 'node:timers/promises';
import { createCheckpointWaiters, type CheckpointWaiters } from './checkpoint-waiters.js';
import type { EventStore } from './event-store.js';
import { localLeases, type Leases } from './leases.js';
import { assertNever, type StoredEvent } from './messages.js';
import { earliestOf, LOG_START, type Position } from './position.js';
import { createProjectionLeadership, type ProjectionLeadership } from './projection-leadership.js';
import { createProjectionRetries, type ProjectionRetries } from './projection-retries.js';
import { UnreadableEvent } from './upcasting.js';
import { createWakeSignal, type WakeSignal } from './wake-signal.js';

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
}>;

export type ProjectorOptions = Readonly<{
  store: EventStore;
  sinks: readonly ProjectionSink[];
  /** Who runs each projection when several processes share the store; by default this process always does. */
  leases?: Leases;
  /** Events read and applied per transaction. */
  batchSize?: number;
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
  listener?: ProjectionListener;
}>;

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
}>;

type Health = { state: ProjectionState; haltedAt: Position | null; lastError: string | null };

/** The options with their defaults filled in. */
type Settings = Required<ProjectorOptions>;

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
  readonly signal: WakeSignal;
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
      unsubscribe = listenForWakeUps(shared);
      loops = sinks.map((sink) => runLoop(shared, sink));
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
  };
}

function createShared(options: ProjectorOptions): Shared {
  const { leases = localLeases, batchSize = 1000, pollIntervalMs = 1000, maxRetries = 10, retryDelayMs = 200 } = options;
  const { onError = () => {}, onHalt = () => {}, onLeadership = () => {}, listener = NO_LISTENER } = options;
  const health = new Map<string, Health>();
  /** A halted projection will not pass its poisoned event on its own: waiting for it or beyond is pointless. */
  const blockedAt = (position: Position) =>
    [...health.values()].some((h) => h.state === 'halted' && h.haltedAt !== null && h.haltedAt <= position);
  return {
    settings: { ...options, leases, batchSize, pollIntervalMs, maxRetries, retryDelayMs, onError, onHalt, onLeadership, listener },
    health,
    progress: createCheckpointWaiters(
      options.sinks.map((sink) => sink.name),
      blockedAt,
    ),
    resumed: new Map(),
    restarted: new Set(),
    leaders: new Set(),
    signal: createWakeSignal(),
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
  };
}

/** One projection's loop and what it alone keeps. */
type Run = Readonly<{
  sink: ProjectionSink;
  health: Health;
  retries: ProjectionRetries;
  leadership: ProjectionLeadership;
}>;

async function runLoop(shared: Shared, sink: ProjectionSink): Promise<void> {
  const { settings, leaders } = shared;
  const run: Run = {
    sink,
    health: { state: 'running', haltedAt: null, lastError: null },
    retries: createProjectionRetries(settings),
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
  while (shared.running) {
    if (run.health.state === 'halted') {
      await untilResumed(shared, sink.name);
      run.retries.resumed();
      continue;
    }
    await step(shared, run);
  }
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
  const { store, pollIntervalMs } = shared.settings;
  const { sink, retries, leadership } = run;
  const seen = shared.signal.version();
  let events: readonly StoredEvent[] = [];
  try {
    if (shared.restarted.delete(sink.name)) {
      retries.restarted();
      await refreshCheckpoint(shared, sink);
    }
    // The previous leader may have moved the checkpoint since we last looked.
    if (await leadership.renew()) await refreshCheckpoint(shared, sink);
    if (!leadership.isLeader()) {
      await refreshCheckpoint(shared, sink);
      await shared.signal.wait(seen, pollIntervalMs);
      return;
    }
    const from = shared.progress.checkpointOf(sink.name);
    const limit = retries.readLimit();
    events = await store.readAll({ after: from, limit });
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
  const applied = await sink.apply(events, from);
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
