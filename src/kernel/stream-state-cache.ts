/** A stream as this process last left it: the state folded up to `version`. */
export type KnownStream<S> = Readonly<{ state: S; version: number }>;

export type StreamStateCache<S> = Readonly<{
  get: (streamId: string) => KnownStream<S> | undefined;
  set: (streamId: string, known: KnownStream<S>) => void;
  delete: (streamId: string) => void;
  size: () => number;
}>;

/**
 * The states of the streams this process appended to last, at most
 * `capacity` of them, least recently used dropped first. Only ever a hint:
 * another process may have moved a stream since, which the append's
 * expected version catches. States are never mutated (`evolve` is pure), so
 * sharing them between commands is safe.
 */
export function createStreamStateCache<S>(capacity: number): StreamStateCache<S> {
  const entries = new Map<string, KnownStream<S>>();
  return {
    get: (streamId) => {
      const known = entries.get(streamId);
      if (known) {
        // A Map iterates in insertion order: re-inserting marks the entry as the most recent.
        entries.delete(streamId);
        entries.set(streamId, known);
      }
      return known;
    },
    set: (streamId, known) => {
      if (capacity <= 0) return;
      entries.delete(streamId);
      entries.set(streamId, known);
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    delete: (streamId) => void entries.delete(streamId),
    size: () => entries.size,
  };
}
