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
    // 9,000 bytes: about 1,000 go to the frequency sketch, and four answers of ~1,750 fit in the rest.
    const cache = createTaggedCache({ maxBytes: 9_000 });
    for (let i = 0; i < 4; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    expect(cache.get('k0')).toBeDefined(); // k0 is now the most recently used
    for (let i = 4; i < 6; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    const { bytes, evictions } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(9_000);
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
    /** Fills the cache to its entry budget with answers of about `each` bytes, each asked once (so counted once). */
    const fill = (cache: ReturnType<typeof createTaggedCache>, count: number, each: number) => {
      for (let i = 0; i < count; i++) {
        cache.admits(`full${i}`);
        store(cache, `full${i}`, [`User:f${i}`], 'x'.repeat(each / 2));
      }
    };

    it('admits every miss while a sixteenth of the budget is free', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      expect(cache.admits('first')).toBe(true);
      expect(cache.admits('first')).toBe(true);
      expect(cache.stats().declined).toBe(0);
    });

    it('once nearly full, declines a request asked no more often than the answer it would displace', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      expect(cache.stats().evictions).toBeGreaterThan(0);
      // The least recently used answer was asked once (its own first ask): a first ask ties, a second beats it.
      expect(cache.admits('new')).toBe(false);
      expect(cache.admits('other')).toBe(false);
      expect(cache.admits('new')).toBe(true);
    });

    it('keeps an answer asked often against a scan of requests each asked once or twice', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      const survivors = [...Array(60).keys()].filter((i) => cache.get(`full${i}`) !== undefined).map((i) => `full${i}`);
      const hot = survivors[0]!;
      for (let i = 0; i < 5; i++) cache.get(hot); // asked often: hits count as asks
      // Every other answer is now more recent than `hot`, so it is the next to be displaced.
      for (const key of survivors.slice(1)) cache.get(key);
      for (let i = 0; i < 200; i++) {
        const key = `scan${i}`;
        cache.admits(key);
        if (cache.admits(key)) store(cache, key, [`User:s${i}`], 'x'.repeat(1_000));
      }
      expect(cache.get(hot)).toBeDefined();
    });

    it('lets in a request that becomes popular, once asked more often than the answer it would displace', () => {
      const cache = createTaggedCache({ maxBytes: 64_000 });
      fill(cache, 60, 2_000);
      let admitted = false;
      for (let ask = 1; ask <= 4 && !admitted; ask++) admitted = cache.admits('rising');
      expect(admitted).toBe(true);
      expect(store(cache, 'rising', ['User:r'], 'x'.repeat(1_000))).toBe(true);
      expect(cache.get('rising')).toBeDefined();
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
