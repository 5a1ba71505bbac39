import { snapshotWithin, type Snapshot, type SnapshotStore, type StreamBound } from '../../kernel/snapshots.js';

/** Snapshots in a map, for the memory store: as short-lived as its events. */
export function createMemorySnapshotStore(): SnapshotStore {
  // Per stream and fold, in version order.
  const kept = new Map<string, Snapshot[]>();
  const keyOf = (streamId: string, fold: string) => JSON.stringify([streamId, fold]);
  return {
    saveSnapshots: async (snapshots) => {
      for (const snapshot of snapshots) {
        // Stored as JSON text would be: what comes back out is a copy, never the caller's object.
        const copy: Snapshot = { ...snapshot, state: JSON.parse(JSON.stringify(snapshot.state)) as unknown };
        const list = kept.get(keyOf(snapshot.streamId, snapshot.fold)) ?? [];
        const others = list.filter((s) => s.version !== snapshot.version);
        kept.set(keyOf(snapshot.streamId, snapshot.fold), [...others, copy].sort((a, b) => a.version - b.version));
      }
    },
    loadSnapshot: async (streamId: string, fold: string, bound?: StreamBound) => {
      const list = kept.get(keyOf(streamId, fold)) ?? [];
      for (let i = list.length - 1; i >= 0; i--) if (snapshotWithin(list[i]!, bound)) return list[i]!;
      return null;
    },
    deleteSnapshots: async () => kept.clear(),
    close: async () => {},
  };
}
