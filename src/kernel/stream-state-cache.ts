import { createLruMap, type LruMap } from './lru-map.js';

/** A stream as this process last left it: the state folded up to `version`. */
export type KnownStream<S> = Readonly<{ state: S; version: number }>;

export type StreamStateCache<S> = LruMap<string, KnownStream<S>>;

/**
 * The states of the streams this process appended to last, at most
 * `capacity` of them, least recently used dropped first. Only ever a hint:
 * another process may have moved a stream since, which the append's
 * expected version catches. States are never mutated (`evolve` is pure), so
 * sharing them between commands is safe.
 */
export const createStreamStateCache = <S>(capacity: number): StreamStateCache<S> => createLruMap(capacity);
