import type { StoredEvent } from './messages.js';
import type { Position } from './position.js';

/** What a projection does after a failed attempt. */
export type FailureVerdict =
  /** A batch failed: apply it again one event per transaction to find the event at fault. */
  | Readonly<{ type: 'isolate' }>
  /** One event kept failing: stop before it. */
  | Readonly<{ type: 'halt'; at: Position }>
  | Readonly<{ type: 'retry'; backoffMs: number }>;

export type ProjectionRetries = Readonly<{
  /** How many events to read next: one at a time while isolating a failed batch. */
  readLimit: () => number;
  succeeded: (last: Position) => void;
  failed: (events: readonly StoredEvent[]) => FailureVerdict;
  /** The checkpoint went back to the start: the batch being isolated is gone. */
  restarted: () => void;
  /** Taken up again after a halt, with a fresh retry budget. */
  resumed: () => void;
}>;

const MAX_BACKOFF_MS = 30_000;

/**
 * The retry and isolation policy of one projection. After a batch fails it
 * applies one event per transaction up to the batch's end, so the checkpoint
 * stops right before the event that fails, which is then retried with
 * exponential backoff until `maxRetries`, and never skipped.
 */
export function createProjectionRetries(options: Readonly<{ batchSize: number; maxRetries: number; retryDelayMs: number }>): ProjectionRetries {
  const { batchSize, maxRetries, retryDelayMs } = options;
  let failures = 0;
  let isolateUpTo: Position | null = null;

  return {
    readLimit: () => (isolateUpTo === null ? batchSize : 1),
    succeeded: (last) => {
      if (isolateUpTo !== null && last >= isolateUpTo) isolateUpTo = null;
      failures = 0;
    },
    failed: (events) => {
      if (events.length > 1) {
        // Which event failed is unknown yet; find it without spending the retry budget.
        isolateUpTo = events[events.length - 1]!.position;
        return { type: 'isolate' };
      }
      failures += 1;
      if (events.length === 1 && failures > maxRetries) return { type: 'halt', at: events[0]!.position };
      return { type: 'retry', backoffMs: Math.min(MAX_BACKOFF_MS, retryDelayMs * 2 ** Math.min(failures - 1, 20)) };
    },
    restarted: () => {
      isolateUpTo = null;
    },
    resumed: () => {
      failures = 0;
    },
  };
}
