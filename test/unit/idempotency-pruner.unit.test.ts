import { afterEach, describe, expect, it } from 'vitest';
import { pruneIntervalFor, startIdempotencyPruner, type IdempotencyPruner } from '../../src/kernel/idempotency-pruner.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { waitUntil } from '../support/wait.js';

const WINDOW_MS = 60_000;

describe('idempotency pruner', () => {
  let pruner: IdempotencyPruner | undefined;
  afterEach(async () => {
    await pruner?.stop();
  });

  const storeAt = () => {
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const store = createMemoryEventStore({ idempotencyRetention: { windowMs: WINDOW_MS, clock: () => new Date(now) } });
    return { store, passMs: (ms: number) => (now += ms) };
  };

  it('deletes expired records in batches until none is left, and keeps live ones', async () => {
    const { store, passMs } = storeAt();
    for (let i = 0; i < 7; i++) await store.saveIdempotencyRecord({ key: `old-${i}`, requestHash: 'h', outcome: {} });
    passMs(WINDOW_MS + 1);
    await store.saveIdempotencyRecord({ key: 'live', requestHash: 'h', outcome: {} });
    const passes: [pruned: number, batches: number][] = [];
    pruner = startIdempotencyPruner({ records: store, intervalMs: 5, batchSize: 3, onPruned: (pruned, batches) => passes.push([pruned, batches]) });

    await waitUntil(() => passes.length > 0, 'a pass that prunes');
    // 3 + 3 + 1: the short batch ends the pass.
    expect(passes).toEqual([[7, 3]]);
    expect(await store.oldestIdempotencyRecordAt()).not.toBeNull();
    expect(await store.getIdempotencyRecord('live')).not.toBeNull();

    // Later passes find the live record once it has expired too.
    passMs(WINDOW_MS + 1);
    await waitUntil(() => passes.length > 1, 'the next pass that prunes');
    expect(passes[1]).toEqual([1, 1]);
    expect(await store.oldestIdempotencyRecordAt()).toBeNull();
  });

  it('reports a failing pass and tries again at the next', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    pruner = startIdempotencyPruner({
      records: {
        pruneExpiredIdempotencyRecords: async () => {
          calls += 1;
          if (calls === 1) throw new Error('database away');
          return 0;
        },
      },
      intervalMs: 5,
      onError: (error) => errors.push(error),
    });
    await waitUntil(() => calls >= 3, 'passes after the failure');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('database away');
  });

  it('stops after the statement in flight and starts no pass afterwards', async () => {
    let release = () => {};
    let calls = 0;
    pruner = startIdempotencyPruner({
      records: {
        pruneExpiredIdempotencyRecords: async (limit) => {
          calls += 1;
          // A full batch, so without the stop the pass would go on.
          await new Promise<void>((resolve) => (release = resolve));
          return limit;
        },
      },
      intervalMs: 5,
    });
    await waitUntil(() => calls === 1, 'the first statement');
    const stopped = pruner.stop();
    release();
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toBe(1);
  });

  it('prunes a tenth of the window apart, at most a minute', () => {
    expect(pruneIntervalFor(1000)).toBe(100);
    expect(pruneIntervalFor(86_400_000)).toBe(60_000);
  });
});
