import type { DataKeys } from './event-store.js';
import { SEALED_FIELD, type PersonalData } from './personal-data.js';
import type { Snapshot, SnapshotStore } from './snapshots.js';

const sealedOf = (state: unknown): string | undefined =>
  typeof state === 'object' && state !== null && typeof (state as Record<string, unknown>)[SEALED_FIELD] === 'string'
    ? ((state as Record<string, unknown>)[SEALED_FIELD] as string)
    : undefined;

/**
 * Snapshots of streams that have a data key hold folded personal fields:
 * their state is sealed under the stream's key. Once the key is destroyed
 * the snapshot reads as missing (a fold starts from the stream's first event,
 * whose fields read as null), and none is written: snapshots are only a cache.
 */
export function withSealedSnapshots(snapshots: SnapshotStore, keys: DataKeys, personal: PersonalData): SnapshotStore {
  return {
    ...snapshots,
    saveSnapshots: async (list) => {
      if (list.length === 0) return snapshots.saveSnapshots(list);
      const opened = await personal.openKeys(keys, list.map((snapshot) => snapshot.streamId));
      const sealed: Snapshot[] = [];
      for (const snapshot of list) {
        const key = opened.get(snapshot.streamId);
        if (key === 'destroyed') continue;
        sealed.push(key === undefined ? snapshot : { ...snapshot, state: { [SEALED_FIELD]: personal.sealSnapshot(snapshot.streamId, snapshot.fold, key, snapshot.state) } });
      }
      return snapshots.saveSnapshots(sealed);
    },
    loadSnapshot: async (...args) => {
      const snapshot = await snapshots.loadSnapshot(...args);
      const sealed = snapshot ? sealedOf(snapshot.state) : undefined;
      if (!snapshot || sealed === undefined) return snapshot;
      const key = (await personal.openKeys(keys, [snapshot.streamId])).get(snapshot.streamId);
      if (key === undefined || key === 'destroyed') return null;
      return { ...snapshot, state: personal.openSnapshot(snapshot.streamId, snapshot.fold, key, sealed) };
    },
  };
}
