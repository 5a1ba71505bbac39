/**
 * A map of at most `capacity` entries, the least recently used dropped
 * first: the in-memory caches of the kernel and the stores (stream states,
 * data keys, streams without a snapshot) are all this.
 */
export type LruMap<K, V> = Readonly<{
  /** The value, now the most recently used. */
  get: (key: K) => V | undefined;
  set: (key: K, value: V) => void;
  delete: (key: K) => void;
  size: () => number;
}>;

export function createLruMap<K, V>(capacity: number): LruMap<K, V> {
  const entries = new Map<K, V>();
  return {
    get: (key) => {
      const value = entries.get(key);
      if (value !== undefined) {
        // A Map iterates in insertion order: re-inserting marks the entry as the most recent.
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set: (key, value) => {
      if (capacity <= 0) return;
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    delete: (key) => void entries.delete(key),
    size: () => entries.size,
  };
}
