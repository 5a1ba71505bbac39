import { describe, expect, it } from 'vitest';
import { createTaggedCache, type PendingWrite } from '../../src/server/response-cache/tagged-cache.js';

const answer = (text: string) => ({ data: { text } });
const write = (key: string, startedAt: number, tags: string[]): PendingWrite => ({ key, startedAt, tags: new Set(tags), session: 'anonymous', headers: {} });

function store(cache: ReturnType<typeof createTaggedCache>, key: string, tags: string[], text = key, startedAt = cache.generation()) {
  cache.expect(write(key, startedAt, tags));
  cache.set(key, answer(text), [], Infinity);
}

describe('tagged cache', () => {
  it('drops exactly the entries that read an invalidated tag', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    store(cache, 'a', ['User:1']);
    store(cache, 'b', ['User:2', 'UserConnection']);
    cache.invalidateTags(['User:1']);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual(expect.objectContaining({ data: { text: 'b' } }));
    cache.invalidate([{ typename: 'UserConnection' }]);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 0, invalidations: 2 });
  });

  it('refuses an answer computed across an invalidation of something it read', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    const started = cache.generation();
    cache.invalidateTags(['User:1']); // a projection applied an event while the request ran
    store(cache, 'stale', ['User:1'], 'old', started);
    expect(cache.get('stale')).toBeUndefined();
    store(cache, 'unrelated', ['User:2'], 'fine', started);
    expect(cache.get('unrelated')).toBeDefined();
  });

  it('keeps nothing for a `set` it was not told what the answer read', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    cache.set('untold', answer('x'), [], Infinity);
    expect(cache.get('untold')).toBeUndefined();
    cache.expect(write('one', cache.generation(), []));
    cache.set('another', answer('x'), [], Infinity);
    expect(cache.get('another')).toBeUndefined();
  });

  it('tags answers with the entities the plugin found in them too', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    cache.expect(write('page', cache.generation(), ['UserConnection']));
    cache.set('page', answer('page'), [{ typename: 'User', id: 'User:7' }], Infinity);
    cache.invalidateTags(['User:7']);
    expect(cache.get('page')).toBeUndefined();
  });

  it('stays within its byte budget, dropping the least recently used first', () => {
    const cache = createTaggedCache({ maxBytes: 7_000 });
    for (let i = 0; i < 4; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    expect(cache.get('k0')).toBeDefined(); // k0 is now the most recently used
    for (let i = 4; i < 6; i++) store(cache, `k${i}`, [`User:${i}`], 'x'.repeat(500));
    const { bytes, evictions } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(7_000);
    expect(evictions).toBeGreaterThan(0);
    expect(cache.get('k0')).toBeDefined();
    expect(cache.get('k1')).toBeUndefined();
  });

  it('turns a failure to keep an answer into a miss, never an error', () => {
    const cache = createTaggedCache({ maxBytes: 1_000_000 });
    cache.expect(write('odd', cache.generation(), ['User:1']));
    expect(() => cache.set('odd', { data: { big: 1n } }, [], Infinity)).not.toThrow();
    expect(cache.get('odd')).toBeUndefined();
  });
});
