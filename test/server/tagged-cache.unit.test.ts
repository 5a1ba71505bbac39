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
});
