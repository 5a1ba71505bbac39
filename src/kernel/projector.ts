import { setTimeout as delay } from 'node:timers/promises';
import type { EventStore } from './event-store.js';
import type { StoredEvent } from './messages.js';
import { createWakeSignal } from './wake-signal.js';

/**
 * Where a projection keeps its rows and its checkpoint. `apply` must write
 * both in one transaction, so an event's effect is there exactly once no
 * matter where a crash falls.
 */
export interface ProjectionSink {
  readonly name: string;
  checkpoint(): Promise<number>;
  /**
   * Applies events that follow `from` and moves the checkpoint to the last
   * one. Returns false, writing nothing, when the stored checkpoint is no
   * longer `from` (another runner or a rebuild moved it).
   */
  apply(events: readonly StoredEvent[], from: number): Promise<boolean>;
  /** Empties the read model and sets the checkpoint back to 0, atomically. */
  reset(): Promise<void>;
}

export type ProjectionStatus = Readonly<{
  name: string;
  checkpoint: number;
  /** Events in the store this projection has not applied yet. */
  lag: number;
  lastError: string | null;
}>;

export type ProjectorOptions = Readonly<{
  store: EventStore;
  sinks: readonly ProjectionSink[];
  /** Events read and applied per transaction. */
  batchSize?: number;
  /** Fallback wake-up when no append signal arrives (e.g. another process wrote). */
  pollIntervalMs?: number;
  onError?: (sink: string, error: unknown) => void;
}>;

export type Projector = Readonly<{
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Resolves true once every projection has passed `position`, false after `timeoutMs`. */
  waitFor: (position: number, timeoutMs: number) => Promise<boolean>;
  status: () => Promise<readonly ProjectionStatus[]>;
}>;

export function createProjector(options: ProjectorOptions): Projector {
  const { store, sinks, batchSize = 1000, pollIntervalMs = 1000, onError = () => {} } = options;
  const checkpoints = new Map<string, number>();
  const errors = new Map<string, string>();
  const waiters = new Set<{ position: number; resolve: (reached: boolean) => void }>();
  const signal = createWakeSignal();
  let running = false;
  let stopping = new AbortController();
  let loops: Promise<void>[] = [];
  let unsubscribe = () => {};

  const lowestCheckpoint = () => Math.min(...sinks.map((s) => checkpoints.get(s.name) ?? 0));

  const settleWaiters = () => {
    const reached = lowestCheckpoint();
    for (const waiter of waiters) {
      if (waiter.position <= reached) waiter.resolve(true);
    }
  };

  const runLoop = async (sink: ProjectionSink) => {
    let failures = 0;
    while (running) {
      const seen = signal.version();
      try {
        const from = checkpoints.get(sink.name) ?? (await sink.checkpoint());
        checkpoints.set(sink.name, from);
        const events = await store.readAll({ after: from, limit: batchSize });
        if (events.length === 0) {
          await signal.wait(seen, pollIntervalMs);
          continue;
        }
        const applied = await sink.apply(events, from);
        checkpoints.set(sink.name, applied ? events[events.length - 1]!.position : await sink.checkpoint());
        errors.delete(sink.name);
        failures = 0;
        settleWaiters();
      } catch (error) {
        failures += 1;
        errors.set(sink.name, error instanceof Error ? error.message : String(error));
        onError(sink.name, error);
        // The failed batch wrote nothing: keep reporting (and releasing waiters up to) the stored checkpoint.
        checkpoints.set(sink.name, await sink.checkpoint().catch(() => checkpoints.get(sink.name) ?? 0));
        settleWaiters();
        // Appends must not cut the backoff short; only stop() may.
        await delay(Math.min(30_000, 100 * 2 ** Math.min(failures, 9)), undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  };

  return {
    start: async () => {
      if (running) return;
      running = true;
      stopping = new AbortController();
      for (const sink of sinks) checkpoints.set(sink.name, await sink.checkpoint());
      unsubscribe = store.onAppended(() => signal.notify());
      loops = sinks.map(runLoop);
    },
    stop: async () => {
      running = false;
      stopping.abort();
      unsubscribe();
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
        const checkpoint = checkpoints.get(sink.name) ?? 0;
        return { name: sink.name, checkpoint, lag: Math.max(0, head - checkpoint), lastError: errors.get(sink.name) ?? null };
      });
    },
  };
}

export type RebuildProgress = Readonly<{ applied: number; position: number; head: number }>;

/**
 * Empties a read model and replays the whole log into it. Run it while no
 * projector serves this read model; the checkpoint guard in `apply` turns a
 * forgotten running server into a clean failure rather than double effects.
 */
export async function rebuildProjection(
  store: EventStore,
  sink: ProjectionSink,
  options: { batchSize?: number; onProgress?: (progress: RebuildProgress) => void } = {},
): Promise<RebuildProgress> {
  const batchSize = options.batchSize ?? 5000;
  await sink.reset();
  const head = await store.headPosition();
  let position = 0;
  let applied = 0;
  for (;;) {
    const events = await store.readAll({ after: position, limit: batchSize });
    if (events.length === 0) break;
    if (!(await sink.apply(events, position))) {
      throw new Error(`Checkpoint of ${sink.name} moved during rebuild: is a server running on this read model?`);
    }
    position = events[events.length - 1]!.position;
    applied += events.length;
    options.onProgress?.({ applied, position, head: Math.max(head, position) });
  }
  return { applied, position, head: Math.max(head, position) };
}
