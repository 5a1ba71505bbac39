import { createHash } from 'node:crypto';
import { createLruMap } from '../../kernel/lru-map.js';
import { createFrequencySketch, hashOf } from './frequency-sketch.js';

/**
 * The response cache's store: whole HTTP answers by request key, each with
 * the tags of what it read (src/graphql/cache-tags.ts). It is exact rather
 * than timed:
 *
 * - entries are dropped by the projections, by tag, in the same step that
 *   moves their checkpoint (src/server/response-cache/invalidation.ts), and
 *   never expire otherwise;
 * - an answer is kept only if none of what it read was invalidated while it
 *   was being computed: a projection may change the read model between the
 *   read and the `set` (the answer would then stay stale forever). Each
 *   request notes `generation()` before it reads, and hands it to `set`;
 * - memory is bounded in bytes, least recently used first;
 * - once the cache is nearly full, an answer is kept only when its request
 *   was asked more often lately than the answer it would displace, the
 *   least recently used (`admits`, TinyLFU's rule, frequencies from
 *   frequency-sketch.ts). With more distinct answers in use than fit,
 *   keeping every miss would evict an answer at every miss and pay for
 *   storing answers gone before their next ask (measured: cold reads over
 *   10⁴ pages ran at 0.58× the baseline with the cache on, 0.68× with it
 *   off). Keeping a miss on its second ask, as before, still stored 40% of
 *   uniform misses; compared with the victim's frequency, a uniform scan
 *   displaces almost nothing, while a request asked often gets in.
 */
export type TaggedCache = Readonly<{
  /** The answer kept for `key`, now the most recently used. */
  get: (key: string) => CachedAnswer | undefined;
  /** A kept answer was sent (`get` alone does not count: the caller may still refuse it, e.g. for an expired token). */
  countHit: () => void;
  /** Keeps the answer unless something in `tags` was invalidated after `startedAt`; false when not kept. */
  set: (key: string, answer: CachedAnswer, read: ReadSince) => boolean;
  /** Counts an ask of `key` that missed; whether to keep its answer once computed: always while there is room, else only if asked more often lately than the answer it would displace. */
  admits: (key: string) => boolean;
  /** Increases at every invalidation; a request notes it before it reads. */
  generation: () => number;
  /** A cacheable answer had to be computed; `admitted`: it is to be kept. */
  countMiss: (admitted: boolean) => void;
  invalidateTags: (keys: Iterable<string>) => void;
  /** Drops everything, e.g. after a projection was reset or replaced. */
  clear: () => void;
  stats: () => CacheStats;
}>;

/** An HTTP answer as a hit sends it; only the position it reflects is filled in at each hit. */
export type CachedAnswer = Readonly<{
  /** The body before and after the position (a JSON string's contents). */
  body: readonly [before: string, after: string];
  /** Response headers, as name/value pairs, without the per-request ones (position, request id, length). */
  headers: readonly string[];
  /** For `If-None-Match` (GET answers only). */
  etag: string | undefined;
  /** Whom the answer is for (the viewer scope): a hit checks the token still names the same scope. */
  session: string;
}>;

export type ReadSince = Readonly<{ startedAt: number; tags: ReadonlySet<string> }>;

export type CacheStats = Readonly<{
  entries: number;
  bytes: number;
  hits: number;
  /** Cacheable answers that had to be computed. */
  misses: number;
  /** Misses not kept: asked less often than the answer they would displace, while the cache was nearly full. */
  declined: number;
  evictions: number;
  /** Entries dropped because a projection changed something they read. */
  invalidations: number;
}>;

type Entry = { answer: CachedAnswer; tags: readonly string[]; bytes: number; hash: number };

/** Rough per-entry cost besides its strings (the maps, the entry objects). */
const ENTRY_OVERHEAD_BYTES = 512;
const TAG_OVERHEAD_BYTES = 96;
/** While this share of the budget is free, every answer is let in. */
const FREE_SHARE = 1 / 16;
/** Bytes of budget per counter in each row of the frequency sketch: about one per smallest answer that fits. */
const BYTES_PER_COUNTER = 1024;
/** Past this many remembered invalidations, forget them all and refuse writes started before (never wrong, briefly less cached). */
const MAX_REMEMBERED_TAGS = 50_000;

/** The ETag of an answer: the same for the same answer to the same viewer scope, cached or not, on any instance. */
export const etagOf = (session: string, json: string): string =>
  `"${createHash('sha256').update(session).update('\0').update(json).digest('base64url').slice(0, 32)}"`;

export function createTaggedCache(options: Readonly<{ maxBytes: number }>): TaggedCache {
  const asked = createFrequencySketch(options.maxBytes / BYTES_PER_COUNTER);
  const entryBudget = options.maxBytes - asked.bytes;
  const freeForAll = Math.floor(options.maxBytes * FREE_SHARE);
  // Recency kept by the kernel's LRU map (no capacity: bytes decide here), whose oldest entry costs nothing to find.
  let entries = createLruMap<string, Entry>(Infinity);
  const byTag = new Map<string, Set<string>>();
  const invalidatedAt = new Map<string, number>();
  let generation = 0;
  let floor = 0;
  let bytes = 0;
  const counts = { hits: 0, misses: 0, declined: 0, evictions: 0, invalidations: 0 };

  const admits = (key: string): boolean => {
    const hash = hashOf(key);
    asked.increment(hash);
    if (bytes + freeForAll <= entryBudget) return true;
    const victim = entries.oldest();
    return victim === undefined || asked.estimate(hash) > asked.estimate(victim.value.hash);
  };

  const remove = (key: string): boolean => {
    const entry = entries.delete(key);
    if (!entry) return false;
    bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
    }
    return true;
  };

  const staleSince = (startedAt: number, tags: readonly string[]) =>
    startedAt < floor || tags.some((tag) => (invalidatedAt.get(tag) ?? -1) > startedAt);

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

  const sizeOf = (key: string, answer: CachedAnswer, tags: readonly string[]) =>
    (key.length + answer.body[0].length + answer.body[1].length + answer.headers.reduce((sum, text) => sum + text.length, 0)) * 2 +
    ENTRY_OVERHEAD_BYTES +
    tags.length * TAG_OVERHEAD_BYTES;

  return {
    get: (key) => {
      const entry = entries.get(key);
      if (!entry) return undefined;
      asked.increment(entry.hash);
      return entry.answer;
    },
    countHit: () => {
      counts.hits += 1;
    },
    set: (key, answer, read) => {
      const tags = [...read.tags];
      if (staleSince(read.startedAt, tags)) return false;
      const size = sizeOf(key, answer, tags);
      if (size > entryBudget) return false;
      remove(key);
      entries.set(key, { answer, tags, bytes: size, hash: hashOf(key) });
      bytes += size;
      for (const tag of tags) {
        const keys = byTag.get(tag);
        if (keys) keys.add(key);
        else byTag.set(tag, new Set([key]));
      }
      // The new answer is the newest and fits the budget alone, so eviction stops before reaching it.
      for (let oldest = entries.oldest(); bytes > entryBudget && oldest; oldest = entries.oldest()) {
        remove(oldest.key);
        counts.evictions += 1;
      }
      return true;
    },
    admits,
    generation: () => generation,
    countMiss: (admitted) => {
      counts.misses += 1;
      if (!admitted) counts.declined += 1;
    },
    invalidateTags,
    clear: () => {
      generation += 1;
      floor = generation;
      invalidatedAt.clear();
      counts.invalidations += entries.size();
      entries = createLruMap<string, Entry>(Infinity);
      byTag.clear();
      bytes = 0;
    },
    stats: () => ({ entries: entries.size(), bytes, ...counts }),
  };
}
