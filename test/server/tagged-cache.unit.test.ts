import { describe, expect, it } from 'vitest';
import { createTaggedCache, type CachedAnswer } from '../../src/server/response-cache/tagged-cache.js';

const answer = (text: string): CachedAnswer => ({ body: [`{"data":{"text":"${text}"},"extensions":{"position":"`, '"}}'], headers: ['content-type', 'application/json'], etag: undefined, session: 'anonymous' });

function store(cache: ReturnType<typeof createTaggedCache>, key: string, tags: string[], text = key, startedAt = cache.generation()) {
  return cache.set(key, answer(text), { startedAt, tags: new Set(tags) });
}

const textOf = (found: CachedAnswer | undefined) => found?.body[0];

describe('tagged cache', () => {
  it('drops exactly the entries that read an invalidated tag', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    store(cache, 'a', ['User:1']);
    store(cache, 'b', ['User:2', 'UserConnection']);
    cache.invalidateTags(['User:1']);
    expect(cache.get('a')).toBeUndefined();
    expect(textOf(cache.get('b'))).toContain('"text":"b"');
    cache.invalidateTags(['UserConnection']);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 0, invalidations: 2 });
  });

  it('refuses an answer computed across an invalidation of something it read', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    const started = cache.generation();
    cache.invalidateTags(['User:1']); // a projection applied an event while the request ran
    expect(store(cache, 'stale', ['User:1'], 'old', started)).toBe(false);
    expect(cache.get('stale')).toBeUndefined();
    expect(store(cache, 'unrelated', ['User:2'], 'fine', started)).toBe(true);
    expect(cache.get('unrelated')).toBeDefined();
  });

  it('refuses every answer started before it was cleared', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    const started = cache.generation();
    cache.clear();
    expect(store(cache, 'before', ['User:9'], 'x', started)).toBe(false);
    expect(store(cache, 'after', ['User:9'])).toBe(true);
  });

  it('stays within its byte budget, dropping the least recently used first', () => {
    const cache = createTaggedCache({ maxBytes: 8_000 });
    for (let i = 0; i < 4; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    expect(cache.get('k0')).toBeDefined(); // k0 is now the most recently used
    for (let i = 4; i < 6; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    const { bytes, evictions } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(8_000);
    expect(evictions).toBeGreaterThan(0);
    expect(cache.get('k0')).toBeDefined();
    expect(cache.get('k1')).toBeUndefined();
  });

  it('keeps nothing larger than its whole budget', () => {
    const cache = createTaggedCache({ maxBytes: 2_000 });
    expect(store(cache, 'huge', ['User:1'], 'x'.repeat(5_000))).toBe(false);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  describe('admission', () => {
    /** Fills the cache to its entry budget with answers of about `each` bytes. */
    const fill = (cache: ReturnType<typeof createTaggedCache>, count: number, each: number) => {
      for (let i = 0; i < count; i++) store(cache, `full${i}`, [`User:f${i}`], 'x'.repeat(each / 2));
    };

    it('admits every miss while a sixteenth of the budget is free', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      expect(cache.admits('first')).toBe(true);
      expect(cache.admits('first')).toBe(true);
      expect(cache.stats().declined).toBe(0);
    });

    it('once nearly full, declines a request asked once and admits it on its second ask', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      expect(cache.stats().evictions).toBeGreaterThan(0);
      expect(cache.admits('new')).toBe(false);
      expect(cache.admits('other')).toBe(false);
      expect(cache.admits('new')).toBe(true);
      // Admitted once, it is forgotten: a third miss of it (evicted meanwhile) counts as a first ask again.
      expect(cache.admits('new')).toBe(false);
    });

    it('remembers the requests asked once within a sixteenth of the budget, forgetting the oldest first', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      // 4,000 bytes of remembered keys: each key below costs 2 × 100 + 64 bytes, so about 15 fit.
      const keys = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'k'.repeat(98)}`);
      for (const key of keys) expect(cache.admits(key)).toBe(false);
      expect(cache.admits(keys[0]!)).toBe(false); // forgotten long ago, so a first ask again
      expect(cache.admits(keys[39]!)).toBe(true); // among the newest
    });

    it('never remembers a key larger than the doorkeeper’s share', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      const huge = 'q'.repeat(5_000);
      expect(cache.admits(huge)).toBe(false);
      expect(cache.admits(huge)).toBe(false);
    });

    it('admits freely again once invalidations free room', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      expect(cache.admits('late')).toBe(false);
      cache.invalidateTags(Array.from({ length: 60 }, (_, i) => `User:f${i}`));
      expect(cache.admits('fresh')).toBe(true);
    });

    it('counts misses, and the declined ones among them', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      cache.countMiss(true);
      cache.countMiss(false);
      expect(cache.stats()).toMatchObject({ misses: 2, declined: 1 });
    });
  });
});
