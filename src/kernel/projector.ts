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
}

export type ProjectionStatus = Readonly<{
  name: string;
  /** True when this process runs the projection; others only watch its checkpoint. */
  leader: boolean;
  /** The checkpoint as clients see positions. */
  position: string;
  /** Roughly how many events in the store this projection has not applied yet. */
  lag: number;
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
  onError?: (sink: string, error: unknown) => void;
  onLeadership?: (sink: string, leader: boolean) => void;
}>;

export type Projector = Readonly<{
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Resolves true once every projection has passed `position`, false after `timeoutMs`. */
  waitFor: (position: Position, timeoutMs: number) => Promise<boolean>;
  status: () => Promise<readonly ProjectionStatus[]>;
}>;

export function createProjector(options: ProjectorOptions): Projector {
  const { store, sinks, leases = localLeases, batchSize = 1000, pollIntervalMs = 1000 } = options;
  const { onError = () => {}, onLeadership = () => {} } = options;
  const checkpoints = new Map<string, Position>();
  const errors = new Map<string, string>();
  const leaders = new Set<string>();
  const waiters = new Set<{ position: Position; resolve: (reached: boolean) => void }>();
  const signal = createWakeSignal();
  let running = false;
  let stopping = new AbortController();
  let loops: Promise<void>[] = [];
  let unsubscribe: (() => void)[] = [];

  const lowestCheckpoint = () => earliestOf(sinks.map((s) => checkpoints.get(s.name) ?? LOG_START));

  const settleWaiters = () => {
    const reached = lowestCheckpoint();
    for (const waiter of waiters) {
      if (waiter.position <= reached) waiter.resolve(true);
    }
  };

  const refreshCheckpoint = async (sink: ProjectionSink) => {
    checkpoints.set(sink.name, await sink.checkpoint());
    settleWaiters();
  };

  /** Applies one batch; false when there was nothing to apply. */
  const project = async (sink: ProjectionSink): Promise<boolean> => {
    const from = checkpoints.get(sink.name) ?? LOG_START;
    const events = await store.readAll({ after: from, limit: batchSize });
    if (events.length === 0) return false;
    const applied = await sink.apply(events, from);
    checkpoints.set(sink.name, applied ? events[events.length - 1]!.position : await sink.checkpoint());
    settleWaiters();
    return true;
  };

  const runLoop = async (sink: ProjectionSink) => {
    let failures = 0;
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
      const seen = signal.version();
      try {
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
        const worked = await project(sink);
        errors.delete(sink.name);
        failures = 0;
        if (!worked) await signal.wait(seen, pollIntervalMs);
      } catch (error) {
        failures += 1;
        errors.set(sink.name, error instanceof Error ? error.message : String(error));
        onError(sink.name, error);
        // The failed batch wrote nothing: keep reporting (and releasing waiters up to) the stored checkpoint.
        await refreshCheckpoint(sink).catch(() => {});
        // Appends must not cut the backoff short; only stop() may.
        await delay(Math.min(30_000, 100 * 2 ** Math.min(failures, 9)), undefined, { signal: stopping.signal }).catch(() => {});
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
      unsubscribe = [store.onAppended(wake), ...sinks.map((sink) => sink.onCheckpointMoved?.(wake) ?? (() => {}))];
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
        return {
          name: sink.name,
          leader: leaders.has(sink.name),
          position: store.formatPosition(checkpoint),
          lag: store.estimateEventsBetween(checkpoint, head),
          lastError: errors.get(sink.name) ?? null,
        };
      });
    },
  };
}
