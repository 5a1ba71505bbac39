import type { IdempotencyRecord, IdempotencyRecords, IdempotencyRetention } from '../../kernel/event-store.js';

/**
 * Idempotency records in memory, expiring like the other stores' rows: a
 * record past the retention window is treated as absent until it is pruned.
 * `store` is the append's write (after its own check that no live record holds the key).
 */
export function createMemoryIdempotencyRecords(
  retention: IdempotencyRetention,
  copy: (record: IdempotencyRecord) => IdempotencyRecord,
): IdempotencyRecords & Readonly<{ holds: (key: string) => boolean; store: (record: IdempotencyRecord) => void }> {
  const records = new Map<string, { record: IdempotencyRecord; recordedAt: number }>();
  const cutoff = () => retention.clock().getTime() - retention.windowMs;
  const live = (key: string) => {
    const kept = records.get(key);
    return kept && kept.recordedAt >= cutoff() ? kept.record : null;
  };
  const store = (record: IdempotencyRecord) => {
    // Deleted first so the map's order stays the order of recording, oldest first.
    records.delete(record.key);
    records.set(record.key, { record, recordedAt: retention.clock().getTime() });
  };
  return {
    holds: (key) => live(key) !== null,
    store,
    getIdempotencyRecord: async (key) => live(key),
    saveIdempotencyRecord: async (record) => {
      const kept = live(record.key);
      if (kept) return kept;
      const stored = copy(record);
      store(stored);
      return stored;
    },
    pruneExpiredIdempotencyRecords: async (limit) => {
      const before = cutoff();
      let pruned = 0;
      for (const [key, { recordedAt }] of records) {
        if (pruned >= limit) break;
        if (recordedAt < before) {
          records.delete(key);
          pruned += 1;
        }
      }
      return pruned;
    },
    oldestIdempotencyRecordAt: async () => {
      let oldest: number | null = null;
      for (const { recordedAt } of records.values()) oldest = oldest === null ? recordedAt : Math.min(oldest, recordedAt);
      return oldest === null ? null : new Date(oldest);
    },
  };
}
