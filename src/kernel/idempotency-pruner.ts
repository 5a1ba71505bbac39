import type { IdempotencyRecords } from './event-store.js';

export type IdempotencyPrunerOptions = Readonly<{
  records: Pick<IdempotencyRecords, 'pruneExpiredIdempotencyRecords'>;
  /** Pause between passes; a pass deletes batches until none is left to delete. */
  intervalMs: number;
  /** Records deleted per statement: the longest an append ever waits on the pruner is one such statement. @default 500 */
  batchSize?: number;
  /** After each pass that deleted something. */
  onPruned?: (pruned: number, batches: number) => void;
  /** A failed pass is reported and the next one tries again: expired records never answer, so late pruning only costs space. */
  onError?: (error: unknown) => void;
}>;

export type IdempotencyPruner = Readonly<{
  /** Stops after the statement in flight (if any); later passes never start. */
  stop: () => Promise<void>;
}>;

export const DEFAULT_PRUNE_BATCH = 500;

/** A tenth of the window, at least 10 ms and at most a minute: expired records are gone within about 1.1 windows. */
export const pruneIntervalFor = (windowMs: number) => Math.min(60_000, Math.max(10, Math.round(windowMs / 10)));

/**
 * Deletes expired idempotency records in the background, a small batch per
 * statement, yielding to the event loop between batches so appends queued
 * meanwhile go first. Any number of instances may prune the same store.
 */
export function startIdempotencyPruner(options: IdempotencyPrunerOptions): IdempotencyPruner {
  const { records, intervalMs, batchSize = DEFAULT_PRUNE_BATCH, onPruned, onError } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const pass = async () => {
    let pruned = 0;
    let batches = 0;
    for (;;) {
      const deleted = await records.pruneExpiredIdempotencyRecords(batchSize);
      pruned += deleted;
      batches += 1;
      if (deleted < batchSize || stopped) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (pruned > 0) onPruned?.(pruned, batches);
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch((error: unknown) => onError?.(error))
        .finally(schedule);
    }, intervalMs);
    // Pruning alone never keeps the process alive.
    timer.unref();
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
