import { setTimeout as delay } from 'node:timers/promises';
import type { EventStore } from './event-store.js';
import { localLeases, type Lease, type Leases } from './leases.js';
import type { StoredEvent } from './messages.js';
import { earliestOf, LOG_START, type Position } from './position.js';
import { createWakeSignal } from './wake-signal.js';

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
  /** Takes a halted projection up again at its checkpoint, with a fresh retry budget. False when it was not halted. */
  resume: (name: string) => boolean;
}>;

type Health = { state: ProjectionState; haltedAt: Position | null; lastError: string | null };

export function createProjector(options: ProjectorOptions): Projector {
  const { store, sinks, leases = localLeases, batchSize = 1000, pollIntervalMs = 1000, maxRetries = 10, retryDelayMs = 200 } = options;
  const { onError = () => {}, onHalt = () => {}, onLeadership = () => {} } = options;
  const checkpoints = new Map<string, Position>();
  const health = new Map<string, Health>();
  const resumed = new Map<string, () => void>();
  const restarted = new Set<string>();
  const leaders = new Set<string>();
  const waiters = new Set<{ position: Position; resolve: (reached: boolean) => void }>();
  const signal = createWakeSignal();
  let running = false;
  let stopping = new AbortController();
  let loops: Promise<void>[] = [];
  let unsubscribe: (() => void)[] = [];

  const lowestCheckpoint = () => earliestOf(sinks.map((s) => checkpoints.get(s.name) ?? LOG_START));

  /** A halted projection will not pass its poisoned event on its own: waiting for it or beyond is pointless. */
  const blockedAt = (position: Position) =>
    [...health.values()].some((h) => h.state === 'halted' && h.haltedAt !== null && h.haltedAt <= position);

  const settleWaiters = () => {
    const reached = lowestCheckpoint();
    for (const waiter of waiters) {
      if (waiter.position <= reached) waiter.resolve(true);
      else if (blockedAt(waiter.position)) waiter.resolve(false);
    }
  };

  const refreshCheckpoint = async (sink: ProjectionSink) => {
    checkpoints.set(sink.name, await sink.checkpoint());
    settleWaiters();
  };


  const runLoop = async (sink: ProjectionSink) => {
    const state: Health = { state: 'running', haltedAt: null, lastError: null };
    health.set(sink.name, state);
    let failures = 0;
    // After a batch failed: apply one event per transaction up to the batch's end,
    // so the checkpoint stops right before the event that fails.
    let isolateUpTo: Position | null = null;
    // Widened on purpose: setLease changes it, which control-flow narrowing cannot see.
    let lease = null as Lease | null;
    let lastBid = -Infinity;
    const setLease = (next: Lease | null) => {
      if ((next === null) === (lease === null)) return;
      lease = next;
      if (lease) leaders.add(sink.name);
      else leaders.delete(sink.name);
      onLeadership(sink.name, lease !== null);
    };
    while (running) {
      if (state.state === 'halted') {
        await new Promise<void>((resolve) => {
          resumed.set(sink.name, resolve);
          stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        resumed.delete(sink.name);
        failures = 0;
        continue;
      }
      const seen = signal.version();
      let events: readonly StoredEvent[] = [];
      try {
        if (restarted.delete(sink.name)) {
          isolateUpTo = null;
          await refreshCheckpoint(sink);
        }
        if (lease?.lost.aborted) {
          const lost = lease;
          setLease(null);
          await lost.release().catch((error: unknown) => onError(sink.name, error));
        }
        if (!lease && performance.now() - lastBid >= pollIntervalMs) {
          lastBid = performance.now();
          setLease(await leases.tryAcquire(sink.name));
          // The previous leader may have moved the checkpoint since we last looked.
          if (lease) await refreshCheckpoint(sink);
        }
        if (!lease) {
          await refreshCheckpoint(sink);
          await signal.wait(seen, pollIntervalMs);
          continue;
        }
        const from = checkpoints.get(sink.name) ?? LOG_START;
        const limit = isolateUpTo === null ? batchSize : 1;
        events = await store.readAll({ after: from, limit });
        if (events.length === 0) {
          await signal.wait(seen, pollIntervalMs);
          continue;
        }
        const applied = await sink.apply(events, from);
        const last = events[events.length - 1]!.position;
        checkpoints.set(sink.name, applied ? last : await sink.checkpoint());
        if (isolateUpTo !== null && last >= isolateUpTo) isolateUpTo = null;
        Object.assign(state, { state: 'running', lastError: null });
        failures = 0;
        settleWaiters();
        // A short batch was everything the store held: reading again before the next append
        // would come back empty (a round trip per batch on PostgreSQL).
        if (applied && events.length < limit) await signal.wait(seen, pollIntervalMs);
      } catch (error) {
        state.lastError = error instanceof Error ? error.message : String(error);
        onError(sink.name, error);
        // The failed batch wrote nothing: keep reporting (and releasing waiters up to) the stored checkpoint.
        await refreshCheckpoint(sink).catch(() => {});
        if (events.length > 1) {
          // Which event failed is unknown yet; find it without spending the retry budget.
          isolateUpTo = events[events.length - 1]!.position;
          settleWaiters();
          continue;
        }
        failures += 1;
        if (events.length === 1 && failures > maxRetries) {
          Object.assign(state, { state: 'halted', haltedAt: events[0]!.position });
          onHalt(sink.name, events[0]!.position, error);
          settleWaiters();
          continue;
        }
        state.state = 'retrying';
        settleWaiters();
        // Appends must not cut the backoff short; only stop() may.
        const backoff = Math.min(30_000, retryDelayMs * 2 ** Math.min(failures - 1, 20));
        await delay(backoff, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
    const held = lease;
    setLease(null);
    await held?.release().catch((error: unknown) => onError(sink.name, error));
  };

  return {
    start: async () => {
      if (running) return;
      running = true;
      stopping = new AbortController();
      for (const sink of sinks) checkpoints.set(sink.name, await sink.checkpoint());
      const wake = () => signal.notify();
      // A leader moved its own checkpoint and already knows; only the other instances need waking.
      const wakeUnlessLeading = (name: string) => () => {
        if (!leaders.has(name)) signal.notify();
      };
      unsubscribe = [
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
      loops = sinks.map(runLoop);
    },
    stop: async () => {
      running = false;
      stopping.abort();
      for (const stop of unsubscribe) stop();
      signal.notify();
      await Promise.all(loops);
      for (const waiter of waiters) waiter.resolve(false);
      waiters.clear();
    },
    waitFor: (position, timeoutMs) => {
      if (lowestCheckpoint() >= position) return Promise.resolve(true);
      if (blockedAt(position)) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const waiter = {
          position,
          resolve: (reached: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(reached);
          },
        };
        const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
        waiters.add(waiter);
      });
    },
    status: async () => {
      const head = await store.headPosition();
      return sinks.map((sink) => {
        const checkpoint = checkpoints.get(sink.name) ?? LOG_START;
        const { state, haltedAt, lastError } = health.get(sink.name) ?? { state: 'running', haltedAt: null, lastError: null };
        return {
          name: sink.name,
          state,
          leader: leaders.has(sink.name),
          position: store.formatPosition(checkpoint),
          lag: store.estimateEventsBetween(checkpoint, head),
          haltedAt: haltedAt === null ? null : store.formatPosition(haltedAt),
          lastError,
        };
      });
    },
    resume: (name) => {
      const state = health.get(name);
      if (state?.state !== 'halted') return false;
      // Keeps lastError until an apply succeeds, so /health still says why it had stopped.
      Object.assign(state, { state: 'running', haltedAt: null });
      resumed.get(name)?.();
      return true;
    },
  };
}
