/**
 * A map of at most `capacity` entries, the least recently used dropped
 * first: the in-memory caches of the kernel and the stores (stream states,
 * data keys, streams without a snapshot) are all this.
 */
export type LruMap<K, V> = Readonly<{
  /** The value, now the most recently used. */
  get: (key: K) => V | undefined;
  set: (key: K, value: V) => void;
  /** Removes the entry; returns its value, or undefined when there was none. */
  delete: (key: K) => V | undefined;
  /** The least recently used entry, left where it is. */
  oldest: () => Readonly<{ key: K; value: V }> | undefined;
  size: () => number;
}>;

type Node<K, V> = { key: K; value: V; older: Node<K, V> | undefined; newer: Node<K, V> | undefined };

/**
 * The recency order is a linked list beside the Map, not the Map's own
 * insertion order: finding the oldest entry of a Map means iterating from
 * its front, which skips every slot deleted since the table last rehashed.
 * A cache at capacity deletes from the front at every insertion, so that
 * cost 4.7 µs per `set` at 10,000 entries (0.6 µs for a plain Map set), and
 * a `createUser` sets a new key in several of these caches.
 */
export function createLruMap<K, V>(capacity: number): LruMap<K, V> {
  const nodes = new Map<K, Node<K, V>>();
  let oldest: Node<K, V> | undefined;
  let newest: Node<K, V> | undefined;

  const unlink = (node: Node<K, V>) => {
    if (node.older) node.older.newer = node.newer;
    else oldest = node.newer;
    if (node.newer) node.newer.older = node.older;
    else newest = node.older;
    node.older = node.newer = undefined;
  };
  const linkNewest = (node: Node<K, V>) => {
    node.older = newest;
    if (newest) newest.newer = node;
    else oldest = node;
    newest = node;
  };

  return {
    get: (key) => {
      const node = nodes.get(key);
      if (!node) return undefined;
      if (node !== newest) {
        unlink(node);
        linkNewest(node);
      }
      return node.value;
    },
    set: (key, value) => {
      if (capacity <= 0) return;
      const existing = nodes.get(key);
      if (existing) {
        existing.value = value;
        if (existing !== newest) {
          unlink(existing);
          linkNewest(existing);
        }
        return;
      }
      if (nodes.size >= capacity && oldest) {
        // At capacity the evicted entry's node carries the new one: a full cache allocates nothing per set,
        // which halved its cost (GC and write barriers on old-space nodes, at 10,000 entries).
        const node = oldest;
        nodes.delete(node.key);
        unlink(node);
        node.key = key;
        node.value = value;
        nodes.set(key, node);
        linkNewest(node);
        return;
      }
      const node: Node<K, V> = { key, value, older: undefined, newer: undefined };
      nodes.set(key, node);
      linkNewest(node);
    },
    delete: (key) => {
      const node = nodes.get(key);
      if (!node) return undefined;
      nodes.delete(key);
      unlink(node);
      return node.value;
    },
    oldest: () => oldest,
    size: () => nodes.size,
  };
}
