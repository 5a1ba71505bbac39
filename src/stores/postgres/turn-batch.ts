import DataLoader from 'dataloader';

/**
 * Merges what concurrent callers ask for in one turn of the event loop into
 * one call of `load` (one round trip), and caches nothing: every turn asks
 * the database again, so an answer is never older than the question. Keys
 * that several callers ask for are passed once per caller; `load` answers
 * each in order.
 */
export function batchPerTurn<K, V>(load: (keys: readonly K[]) => Promise<readonly V[]>, maxBatchSize: number): DataLoader<K, V> {
  return new DataLoader<K, V>(load, {
    cache: false,
    batchScheduleFn: (dispatch) => setImmediate(dispatch),
    maxBatchSize,
  });
}
