/**
 * Conformance suite for the retention of idempotency records, run by every
 * adapter's test file with a factory that opens its store on the given
 * retention. Time is the test's own clock, moved by hand: nothing waits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendRequest, EventStore, IdempotencyRetention } from '../../src/kernel/event-store.js';
import { waitUntil } from '../support/wait.js';

export type RetentionStoreFactory = (retention: IdempotencyRetention) => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

const WINDOW_MS = 60_000;
const START = Date.parse('2026-03-01T12:00:00.000Z');

const event = { type: 'Happened', data: {}, metadata: { occurredAt: '2026-03-01T12:00:00.000Z' } };

export function describeIdempotencyRetentionContract(adapterName: string, createStore: RetentionStoreFactory): void {
  describe(`Idempotency retention contract: ${adapterName}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    let now: number;
    const passMs = (ms: number) => (now += ms);

    beforeEach(async () => {
      now = START;
      ({ store, cleanup } = await createStore({ windowMs: WINDOW_MS, clock: () => new Date(now) }));
    });
    afterEach(async () => {
      await cleanup();
    });

    const keyed = (streamId: string, key: string, outcome: unknown): AppendRequest => ({
      streamId,
      expectedVersion: 0,
      events: [event],
      idempotency: { key, requestHash: `hash-of-${streamId}`, outcome: () => outcome },
    });
    const appendVisible = async (request: AppendRequest) => {
      const result = await store.append(request);
      if (result.ok) {
        const { position } = result.value;
        await waitUntil(async () => (await store.headPosition()) >= position, `${position} to become visible`);
      }
      return result;
    };

    it('answers with a record until the window has passed, then as if it had never been, before any pruning', async () => {
      expect((await appendVisible(keyed('s1', 'k1', { first: true }))).ok).toBe(true);
      passMs(WINDOW_MS);
      expect(await store.getIdempotencyRecord('k1')).toEqual({ key: 'k1', requestHash: 'hash-of-s1', outcome: { first: true } });
      passMs(1);
      expect(await store.getIdempotencyRecord('k1')).toBeNull();
      // Still stored: only the pruner deletes.
      expect(await store.oldestIdempotencyRecordAt()).toEqual(new Date(START));
    });

    it('refuses the key within the window, and takes it for a new append once it has expired', async () => {
      expect((await appendVisible(keyed('s1', 'k1', { first: true }))).ok).toBe(true);
      passMs(WINDOW_MS / 2);
      const within = await appendVisible(keyed('s2', 'k1', { second: true }));
      expect(within).toEqual({ ok: false, error: { type: 'IdempotencyKeyTaken', key: 'k1' } });
      expect((await store.readStream('s2')).version).toBe(0);

      passMs(WINDOW_MS);
      const after = await appendVisible(keyed('s3', 'k1', { third: true }));
      expect(after.ok).toBe(true);
      expect((await store.readStream('s3')).version).toBe(1);
      // The fresh record answers for a whole window of its own.
      passMs(WINDOW_MS);
      expect(await store.getIdempotencyRecord('k1')).toEqual({ key: 'k1', requestHash: 'hash-of-s3', outcome: { third: true } });
      expect(await store.oldestIdempotencyRecordAt()).toEqual(new Date(START + WINDOW_MS / 2 + WINDOW_MS));
    });

    it('saveIdempotencyRecord keeps a live record and replaces an expired one', async () => {
      const first = { key: 'k1', requestHash: 'h1', outcome: { n: 1 } };
      const second = { key: 'k1', requestHash: 'h2', outcome: { n: 2 } };
      expect(await store.saveIdempotencyRecord(first)).toEqual(first);
      passMs(WINDOW_MS);
      expect(await store.saveIdempotencyRecord(second)).toEqual(first);
      passMs(1);
      expect(await store.saveIdempotencyRecord(second)).toEqual(second);
      expect(await store.getIdempotencyRecord('k1')).toEqual(second);
    });

    it('lets exactly one of several concurrent appends take an expired key', async () => {
      expect((await appendVisible(keyed('s0', 'k1', { n: 0 }))).ok).toBe(true);
      passMs(WINDOW_MS + 1);
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => store.append(keyed(`s${n}`, 'k1', { n }))));
      const winners = results.flatMap((result, i) => (result.ok ? [i + 1] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) if (!result.ok) expect(result.error).toEqual({ type: 'IdempotencyKeyTaken', key: 'k1' });
      expect((await store.getIdempotencyRecord('k1'))?.outcome).toEqual({ n: winners[0] });
    });

    it('prunes only expired records, oldest first, at most a batch per call', async () => {
      for (let i = 1; i <= 5; i++) {
        await store.saveIdempotencyRecord({ key: `old-${i}`, requestHash: 'h', outcome: { i } });
        passMs(1000);
      }
      expect((await appendVisible(keyed('s1', 'appended', { appended: true }))).ok).toBe(true);
      passMs(WINDOW_MS - 5000 + 2500);
      // Now old-1..old-3 are past the window; old-4, old-5 and the appended record are not.
      expect(await store.pruneExpiredIdempotencyRecords(2)).toBe(2);
      expect(await store.oldestIdempotencyRecordAt()).toEqual(new Date(START + 2000));
      expect(await store.pruneExpiredIdempotencyRecords(2)).toBe(1);
      expect(await store.pruneExpiredIdempotencyRecords(2)).toBe(0);
      for (const key of ['old-4', 'old-5', 'appended']) expect(await store.getIdempotencyRecord(key), key).not.toBeNull();
      expect(await store.oldestIdempotencyRecordAt()).toEqual(new Date(START + 3000));

      passMs(WINDOW_MS);
      expect(await store.pruneExpiredIdempotencyRecords(500)).toBe(3);
      expect(await store.oldestIdempotencyRecordAt()).toBeNull();
    });

    it('deletes each expired record once when pruners run at the same time', async () => {
      for (let i = 0; i < 40; i++) await store.saveIdempotencyRecord({ key: `k${i}`, requestHash: 'h', outcome: {} });
      passMs(WINDOW_MS + 1);
      const pruned = await Promise.all(Array.from({ length: 4 }, () => store.pruneExpiredIdempotencyRecords(7)));
      let total = pruned.reduce((sum, n) => sum + n, 0);
      while (total < 40) {
        const more = await store.pruneExpiredIdempotencyRecords(7);
        expect(more).toBeGreaterThan(0);
        total += more;
      }
      expect(total).toBe(40);
      expect(await store.pruneExpiredIdempotencyRecords(7)).toBe(0);
      expect(await store.oldestIdempotencyRecordAt()).toBeNull();
    });
  });
}
