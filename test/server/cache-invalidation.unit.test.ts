import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { modules } from '../../src/modules.js';
import { cacheInvalidation } from '../../src/server/response-cache/invalidation.js';
import { createTaggedCache } from '../../src/server/response-cache/tagged-cache.js';

const at = (n: number) => String(n).padStart(6, '0') as Position;
const event = (n: number, type: 'UserCreated' | 'UserUpdated', userId: string): StoredEvent =>
  ({ type, data: { userId, username: `u${n}` }, position: at(n), streamId: `user-${userId}`, streamVersion: 1, schemaVersion: 1, metadata: {} }) as unknown as StoredEvent;

function cacheHolding(...entries: [key: string, tags: string[]][]) {
  const cache = createTaggedCache({ maxBytes: 1_000_000 });
  for (const [key, tags] of entries) {
    cache.set(key, { body: [`{"data":"${key}","extensions":{"position":"`, '"}}'], headers: [], etag: undefined, session: 'anonymous' }, { startedAt: cache.generation(), tags: new Set(tags) });
  }
  return cache;
}

describe('cache invalidation from the projector', () => {
  const log = [event(1, 'UserCreated', 'a'), event(2, 'UserUpdated', 'b'), event(3, 'UserUpdated', 'c')];
  const reader = { readAll: async ({ after, limit }: { after: Position; limit: number }) => log.filter((e) => e.position > after).slice(0, limit) };
  const fail = () => {
    throw new Error('no errors expected');
  };

  it('drops what an applied batch changes: a created user, the last page, counts and searches; an updated user and its pages', () => {
    const cache = cacheHolding(
      ['userA', ['User:a']],
      ['lastPage', ['User:y', 'UserConnection:tail']],
      ['count', ['UserConnection:count']],
      ['search', ['UserConnection:search']],
      ['firstPage', ['User:b', 'User:z']],
      ['userB', ['User:b']],
      ['userZ', ['User:z']],
    );
    const listener = cacheInvalidation(cache, modules, reader, fail);
    listener.applied('users', [event(1, 'UserCreated', 'a')]);
    expect(['userA', 'lastPage', 'count', 'search'].map((key) => cache.get(key))).toEqual([undefined, undefined, undefined, undefined]);
    // A full page with a next one cannot gain the new user.
    expect(cache.get('firstPage')).toBeDefined();
    listener.applied('users', [event(2, 'UserUpdated', 'b')]);
    expect([cache.get('userB'), cache.get('firstPage')]).toEqual([undefined, undefined]);
    expect(cache.get('userZ')).toBeDefined();
  });

  it('reads the events up to a checkpoint another instance moved, and no further', async () => {
    const cache = cacheHolding(['userB', ['User:b']], ['userC', ['User:c']]);
    await cacheInvalidation(cache, modules, reader, fail).moved('users', at(1), at(2));
    expect(cache.get('userB')).toBeUndefined();
    expect(cache.get('userC')).toBeDefined();
  });

  it('drops everything when the checkpoint went back, the read model was replaced, or the log could not be read', async () => {
    const back = cacheHolding(['userZ', ['User:z']]);
    await cacheInvalidation(back, modules, reader, fail).moved('users', at(3), LOG_START);
    expect(back.get('userZ')).toBeUndefined();
    const replaced = cacheHolding(['userZ', ['User:z']]);
    cacheInvalidation(replaced, modules, reader, fail).replaced('users');
    expect(replaced.get('userZ')).toBeUndefined();
    const errors: unknown[] = [];
    const unreadable = cacheHolding(['userZ', ['User:z']]);
    await cacheInvalidation(unreadable, modules, { readAll: () => Promise.reject(new Error('down')) }, (error) => errors.push(error)).moved('users', at(1), at(3));
    expect(unreadable.get('userZ')).toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
