import { describe, expect, it } from 'vitest';
import { LOG_START } from '../../src/kernel/position.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { memoryPosition, sequenceOf } from '../../src/stores/memory/position.js';
import { createMemoryProjectionSink } from '../../src/stores/memory/projection-sink.js';
import { createMemoryUsersReadModel, usersMemoryProjection } from '../../src/users/read-model/memory.js';
import { describeUsersReadModelContract } from './users-read-model.contract.js';

describeUsersReadModelContract('in-memory', async () => {
  const store = createMemoryEventStore();
  const { sink, rows } = createMemoryProjectionSink(usersMemoryProjection);
  return {
    store,
    sink,
    readModel: createMemoryUsersReadModel(rows),
    neighbours: (position) => [sequenceOf(position) - 1, sequenceOf(position) + 1].filter((sequence) => sequence >= 0).map(memoryPosition),
    cleanup: () => store.close(),
  };
});

describe('in-memory users read model specifics', () => {
  const at = '2026-01-01T00:00:00.000Z';
  it('finds users by id (each once, the missing left out), counts them and shows renames in pages', async () => {
    const store = createMemoryEventStore();
    const { sink, rows } = createMemoryProjectionSink(usersMemoryProjection);
    const readModel = createMemoryUsersReadModel(rows);
    for (const userId of ['a', 'b']) {
      const created = await store.append({ streamId: `user-${userId}`, expectedVersion: 0, events: [{ type: 'UserCreated', data: { userId, username: userId, email: `${userId}@x` }, metadata: { occurredAt: at } }] });
      expect(created.ok).toBe(true);
    }
    const renamed = await store.append({ streamId: 'user-a', expectedVersion: 1, events: [{ type: 'UserUpdated', data: { userId: 'a', username: 'renamed' }, metadata: { occurredAt: at } }] });
    expect(renamed.ok).toBe(true);
    expect(await sink.apply(await store.readAll({ after: LOG_START, limit: 10 }), LOG_START)).toBe(true);

    expect((await readModel.byIds(['a', 'missing', 'a'])).map((user) => [user.id, user.username, user.version])).toEqual([['a', 'renamed', 2]]);
    expect(await readModel.count()).toBe(2);
    const page = await readModel.page({ direction: 'forward', limit: 10 });
    expect(page.items.map((user) => user.username)).toEqual(['renamed', 'b']);
    expect(page).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });
});
