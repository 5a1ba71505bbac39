import { createHash } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import type { Cache } from '@graphql-yoga/plugin-response-cache';
import { tagKey, type CacheTag } from '../../graphql/cache-tags.js';

/**
 * The store behind @graphql-yoga/plugin-response-cache, written against its
 * `Cache` interface. The plugin's own in-memory cache bounds entries by
 * count and expires them by TTL; ours is exact instead, which the plugin
 * cannot be on its own (hence this file):
 *
 * - entries are dropped by the projections, by tag, in the same step that
 *   moves their checkpoint (src/server/response-cache/invalidation.ts), and
 *   never expire otherwise;
 * - an answer is kept only if none of what it read was invalidated while it
 *   was being computed: the plugin stores a result after executing it, and a
 *   projection may have changed the read model in between (it would then
 *   keep a stale answer forever). Each request says when it started
 *   (`generation()`) and what it read (`expect`), just before the plugin's `set`;
 * - list tags (`UserConnection`): the plugin tags an answer only with the
 *   entities in it, so a page could not learn of a user created after it;
 * - memory is bounded in bytes, least recently used first.
 */
export type TaggedCache = Cache &
  Readonly<{
    /** Increases at every invalidation; a request notes it before it reads. */
    generation: () => number;
    /** A miss: the plugin's next `set` is this request's answer, what it read, and since when. */
    expect: (write: PendingWrite) => void;
    invalidateTags: (keys: Iterable<string>) => void;
    /** Drops everything, e.g. after a projection was reset or replaced. */
    clear: () => void;
    stats: () => CacheStats;
  }>;

export type PendingWrite = {
  readonly key: string;
  readonly startedAt: number;
  readonly tags: ReadonlySet<string>;
  /** Who the answer is for (the viewer scope), part of its ETag. */
  readonly session: string;
  /** Response headers kept with the entry and sent with every hit. */
  readonly headers: Readonly<Record<string, string>>;
  /** Set by `set` once the answer is stored. */
  etag?: string;
};

export type CacheStats = Readonly<{
  entries: number;
  bytes: number;
  hits: number;
  /** Cacheable answers that had to be computed. */
  misses: number;
  evictions: number;
  /** Entries dropped because a projection changed something they read. */
  invalidations: number;
}>;

type Entry = { result: ExecutionResult; tags: readonly string[]; bytes: number };

/** Rough per-entry cost besides its JSON (the key, the maps, the result objects). */
const ENTRY_OVERHEAD_BYTES = 512;
const TAG_OVERHEAD_BYTES = 96;
/** Past this many remembered invalidations, forget them all and refuse writes started before (never wrong, briefly less cached). */
const MAX_REMEMBERED_TAGS = 50_000;

/** The ETag of an answer: the same for the same answer to the same viewer scope, cached or not, on any instance. */
export const etagOf = (session: string, json: string): string =>
  `"${createHash('sha256').update(session).update('\0').update(json).digest('base64url').slice(0, 32)}"`;

export function createTaggedCache(options: Readonly<{ maxBytes: number }>): TaggedCache {
  const entries = new Map<string, Entry>();
  const byTag = new Map<string, Set<string>>();
  const invalidatedAt = new Map<string, number>();
  let generation = 0;
  let floor = 0;
  let bytes = 0;
  let expected: PendingWrite | undefined;
  const counts = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };

  const remove = (key: string): boolean => {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
    }
    return true;
  };

  const staleSince = (write: PendingWrite, tags: readonly string[]) =>
    write.startedAt < floor || tags.some((tag) => (invalidatedAt.get(tag) ?? -1) > write.startedAt);

  const invalidateTags = (keys: Iterable<string>) => {
    generation += 1;
    for (const tag of keys) {
      invalidatedAt.set(tag, generation);
      for (const key of byTag.get(tag) ?? []) if (remove(key)) counts.invalidations += 1;
    }
    if (invalidatedAt.size > MAX_REMEMBERED_TAGS) {
      invalidatedAt.clear();
      floor = generation;
    }
  };

  const store = (key: string, result: ExecutionResult, entities: Iterable<{ typename: string; id?: string | number }>, write: PendingWrite | undefined) => {
    // Without what the request read, the answer cannot be invalidated: not kept.
    if (write?.key !== key || result.errors) return;
    const tags = [...new Set([...write.tags, ...[...entities].filter((entity) => entity.id != null).map((entity) => tagKey(entity as CacheTag))])];
    if (staleSince(write, tags)) return;
    const json = JSON.stringify(result.data ?? null);
    const etag = etagOf(write.session, json);
    const size = (json.length + key.length) * 2 + ENTRY_OVERHEAD_BYTES + tags.length * TAG_OVERHEAD_BYTES;
    if (size > options.maxBytes) return;
    remove(key);
    // Only the data: the plugin put its own headers (its ETag is the cache key) in the result's extensions.
    entries.set(key, { result: { data: result.data ?? null, extensions: { http: { headers: { ...write.headers, ETag: etag } } } }, tags, bytes: size });
    bytes += size;
    for (const tag of tags) {
      const keys = byTag.get(tag);
      if (keys) keys.add(key);
      else byTag.set(tag, new Set([key]));
    }
    write.etag = etag;
    for (const oldest of entries.keys()) {
      if (bytes <= options.maxBytes) break;
      remove(oldest);
      counts.evictions += 1;
    }
  };

  return {
    get: (key) => {
      const entry = entries.get(key);
      if (!entry) return undefined;
      // Most recently used last: eviction takes from the front.
      entries.delete(key);
      entries.set(key, entry);
      counts.hits += 1;
      return entry.result;
    },
    set: (key, result, entities) => {
      const write = expected;
      expected = undefined;
      // A cache failure (an answer that does not serialise, say) costs a miss, never an error: the read model answered.
      try {
        store(key, result, entities, write);
      } catch {
        remove(key);
      }
    },
    invalidate: (records) => invalidateTags([...records].map(tagKey)),
    generation: () => generation,
    expect: (write) => {
      counts.misses += 1;
      expected = write;
    },
    invalidateTags,
    clear: () => {
      generation += 1;
      floor = generation;
      invalidatedAt.clear();
      counts.invalidations += entries.size;
      entries.clear();
      byTag.clear();
      bytes = 0;
    },
    stats: () => ({ entries: entries.size, bytes, ...counts }),
  };
}
