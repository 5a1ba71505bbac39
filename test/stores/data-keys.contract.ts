/**
 * Conformance suite for the data keys every EventStore keeps beside its log
 * (src/kernel/personal-data.ts seals personal fields under them). Written
 * against the interface only; each adapter's runner calls it with its factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendRequest, EventStore, NewEvent } from '../../src/kernel/event-store.js';
import type { StoreFactory } from './event-store.contract.js';

const event = (type = 'Happened'): NewEvent => ({ type, data: {}, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });
const bytes = (fill: number) => new Uint8Array(60).fill(fill);

export function describeDataKeysContract(name: string, factory: StoreFactory): void {
  describe(`${name} data keys`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    const append = (request: Partial<AppendRequest> & Pick<AppendRequest, 'streamId' | 'expectedVersion'>) =>
      store.append({ events: [event()], ...request });

    it('reads a subject without a key as absent', async () => {
      expect(await store.readDataKeys(['nobody'])).toEqual(new Map());
      expect(await store.readDataKeys([])).toEqual(new Map());
    });

    it("stores a new subject's key with its append, and never replaces it", async () => {
      expect((await append({ streamId: 'a', expectedVersion: 0, dataKey: { subject: 'a', wrapped: bytes(1) } })).ok).toBe(true);
      expect((await append({ streamId: 'a', expectedVersion: 1, dataKey: { subject: 'a', wrapped: bytes(2) } })).ok).toBe(true);
      const keys = await store.readDataKeys(['a', 'b']);
      expect([...keys.keys()]).toEqual(['a']);
      expect(Buffer.from(keys.get('a') as Uint8Array)).toEqual(Buffer.from(bytes(1)));
    });

    it('stores nothing of an append that conflicts', async () => {
      await append({ streamId: 'a', expectedVersion: 0, dataKey: { subject: 'a', wrapped: bytes(1) } });
      const conflicted = await append({ streamId: 'a', expectedVersion: 0, dataKey: { subject: 'b', wrapped: bytes(3) }, shred: ['a'] });
      expect(conflicted.ok).toBe(false);
      const keys = await store.readDataKeys(['a', 'b']);
      expect([...keys.keys()]).toEqual(['a']);
      expect(keys.get('a')).not.toBe('destroyed');
    });

    it("destroys a subject's key in the append's transaction, and the tombstone stays", async () => {
      await append({ streamId: 'a', expectedVersion: 0, dataKey: { subject: 'a', wrapped: bytes(1) } });
      expect((await append({ streamId: 'a', expectedVersion: 1, events: [event('Erased')], shred: ['a'] })).ok).toBe(true);
      expect(await store.readDataKeys(['a'])).toEqual(new Map([['a', 'destroyed']]));
      // A later append can never bring a fresh key to an erased subject.
      expect((await append({ streamId: 'a', expectedVersion: 2, dataKey: { subject: 'a', wrapped: bytes(4) } })).ok).toBe(true);
      expect(await store.readDataKeys(['a'])).toEqual(new Map([['a', 'destroyed']]));
      // Shredding again changes nothing; shredding a subject that had no key leaves a tombstone too.
      expect((await append({ streamId: 'a', expectedVersion: 3, shred: ['a', 'never-keyed'] })).ok).toBe(true);
      expect(await store.readDataKeys(['a', 'never-keyed'])).toEqual(new Map([['a', 'destroyed'], ['never-keyed', 'destroyed']]));
    });

    it('reads a key it read before as destroyed once an erasure commits, and as it was after one that conflicted', async () => {
      await append({ streamId: 'a', expectedVersion: 0, dataKey: { subject: 'a', wrapped: bytes(1) } });
      await append({ streamId: 'b', expectedVersion: 0, dataKey: { subject: 'b', wrapped: bytes(2) } });
      expect([...(await store.readDataKeys(['a', 'b'])).keys()].sort()).toEqual(['a', 'b']);
      expect((await append({ streamId: 'b', expectedVersion: 7, shred: ['b'] })).ok).toBe(false);
      expect((await append({ streamId: 'a', expectedVersion: 1, events: [event('Erased')], shred: ['a'] })).ok).toBe(true);
      const keys = await store.readDataKeys(['a', 'b']);
      expect(keys.get('a')).toBe('destroyed');
      expect(Buffer.from(keys.get('b') as Uint8Array)).toEqual(Buffer.from(bytes(2)));
    });

    it('keeps each append of a group to its own keys: a conflicting one among them writes and shreds nothing', async () => {
      await append({ streamId: 'old', expectedVersion: 0, dataKey: { subject: 'old', wrapped: bytes(9) } });
      const results = await Promise.all([
        append({ streamId: 's1', expectedVersion: 0, dataKey: { subject: 's1', wrapped: bytes(1) } }),
        append({ streamId: 'old', expectedVersion: 5, shred: ['old'] }),
        append({ streamId: 's2', expectedVersion: 0, dataKey: { subject: 's2', wrapped: bytes(2) } }),
        append({ streamId: 'old', expectedVersion: 1, dataKey: { subject: 's3', wrapped: bytes(3) }, shred: ['s4'] }),
      ]);
      expect(results.map((result) => result.ok)).toEqual([true, false, true, true]);
      const keys = await store.readDataKeys(['s1', 's2', 's3', 's4', 'old']);
      expect(Buffer.from(keys.get('s1') as Uint8Array)).toEqual(Buffer.from(bytes(1)));
      expect(Buffer.from(keys.get('s2') as Uint8Array)).toEqual(Buffer.from(bytes(2)));
      expect(Buffer.from(keys.get('s3') as Uint8Array)).toEqual(Buffer.from(bytes(3)));
      expect(keys.get('s4')).toBe('destroyed');
      expect(keys.get('old')).not.toBe('destroyed');
    });

    it('keeps the first master key check it is given; a store without events is marked sealed', async () => {
      const first = await store.ensureKeyCheck({ keyId: 'k1', check: bytes(5) });
      expect(first).toMatchObject({ keyId: 'k1', eventsSealed: true });
      expect(Buffer.from(first.check)).toEqual(Buffer.from(bytes(5)));
      await append({ streamId: 'a', expectedVersion: 0 });
      const again = await store.ensureKeyCheck({ keyId: 'k2', check: bytes(6) });
      expect(again).toMatchObject({ keyId: 'k1', eventsSealed: true });
      expect(Buffer.from(again.check)).toEqual(Buffer.from(bytes(5)));
    });

    it('marks a store that already holds events as not sealed when its check is first written', async () => {
      await append({ streamId: 'a', expectedVersion: 0 });
      expect(await store.ensureKeyCheck({ keyId: 'k1', check: bytes(5) })).toMatchObject({ keyId: 'k1', eventsSealed: false });
    });
  });
}
