/**
 * Conformance suite for SnapshotStore adapters (src/kernel/snapshots.ts):
 * every adapter finds "the newest snapshot within a bound" the same way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Position } from '../../src/kernel/position.js';
import type { Snapshot, SnapshotStore } from '../../src/kernel/snapshots.js';

export type SnapshotStoreFactory = () => Promise<{ snapshots: SnapshotStore; cleanup: () => Promise<void> }>;

/** Positions are opaque to the snapshot store; fixed-width text orders them, as every event store's do. */
const position = (n: number) => String(n).padStart(16, '0') as Position;
const time = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

const snapshot = (version: number, overrides: Partial<Snapshot> = {}): Snapshot => ({
  streamId: 'user-u1',
  fold: 'view@1',
  version,
  position: position(version * 10),
  time: time(version),
  state: { version, name: `at ${version}`, nested: { list: [version, null, 'x'] } },
  ...overrides,
});

export function describeSnapshotStoreContract(adapterName: string, create: SnapshotStoreFactory): void {
  describe(`SnapshotStore contract: ${adapterName}`, () => {
    let snapshots: SnapshotStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ snapshots, cleanup } = await create());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('has none at first', async () => {
      expect(await snapshots.loadSnapshot('user-u1', 'view@1')).toBeNull();
      expect(await snapshots.loadSnapshot('user-u1', 'view@1', { type: 'version', version: 10 })).toBeNull();
    });

    it('gives back what was saved, state and all, as a copy', async () => {
      const saved = snapshot(100);
      await snapshots.saveSnapshots([saved]);
      const loaded = await snapshots.loadSnapshot('user-u1', 'view@1');
      expect(loaded).toEqual(saved);
      expect(loaded!.state).not.toBe(saved.state);
    });

    it('finds the newest snapshot within a version, a position or a time bound, and none before the first', async () => {
      await snapshots.saveSnapshots([snapshot(100), snapshot(300), snapshot(200)]);
      const versionOf = async (bound?: Parameters<SnapshotStore['loadSnapshot']>[2]) =>
        (await snapshots.loadSnapshot('user-u1', 'view@1', bound))?.version ?? null;
      expect(await versionOf()).toBe(300);
      expect(await versionOf({ type: 'version', version: 299 })).toBe(200);
      expect(await versionOf({ type: 'version', version: 200 })).toBe(200);
      expect(await versionOf({ type: 'version', version: 99 })).toBeNull();
      expect(await versionOf({ type: 'position', position: position(2999) })).toBe(200);
      expect(await versionOf({ type: 'position', position: position(3000) })).toBe(300);
      expect(await versionOf({ type: 'position', position: position(999) })).toBeNull();
      expect(await versionOf({ type: 'time', time: time(250) })).toBe(200);
      expect(await versionOf({ type: 'time', time: time(300) })).toBe(300);
      expect(await versionOf({ type: 'time', time: time(99) })).toBeNull();
    });

    it('takes the higher version when positions or times tie (they are running maxima)', async () => {
      await snapshots.saveSnapshots([
        snapshot(100, { position: position(500), time: time(5) }),
        snapshot(200, { position: position(500), time: time(5) }),
      ]);
      expect((await snapshots.loadSnapshot('user-u1', 'view@1', { type: 'position', position: position(500) }))?.version).toBe(200);
      expect((await snapshots.loadSnapshot('user-u1', 'view@1', { type: 'time', time: time(5) }))?.version).toBe(200);
    });

    it('keeps streams and folds apart', async () => {
      await snapshots.saveSnapshots([snapshot(100), snapshot(200, { streamId: 'user-u2' }), snapshot(300, { fold: 'view@2' })]);
      expect((await snapshots.loadSnapshot('user-u1', 'view@1'))?.version).toBe(100);
      expect((await snapshots.loadSnapshot('user-u2', 'view@1'))?.version).toBe(200);
      expect((await snapshots.loadSnapshot('user-u1', 'view@2'))?.version).toBe(300);
      expect(await snapshots.loadSnapshot('user-u3', 'view@1')).toBeNull();
    });

    it('replaces a snapshot of the same stream, fold and version (how a damaged one heals)', async () => {
      await snapshots.saveSnapshots([snapshot(100, { state: { damaged: true } })]);
      await snapshots.saveSnapshots([snapshot(100)]);
      expect(await snapshots.loadSnapshot('user-u1', 'view@1')).toEqual(snapshot(100));
    });

    it('saves nothing for an empty list, and forgets everything when asked', async () => {
      await snapshots.saveSnapshots([]);
      expect(await snapshots.loadSnapshot('user-u1', 'view@1')).toBeNull();
      await snapshots.saveSnapshots([snapshot(100), snapshot(100, { streamId: 'user-u2' })]);
      await snapshots.deleteSnapshots();
      expect(await snapshots.loadSnapshot('user-u1', 'view@1')).toBeNull();
      expect(await snapshots.loadSnapshot('user-u2', 'view@1')).toBeNull();
    });
  });
}
