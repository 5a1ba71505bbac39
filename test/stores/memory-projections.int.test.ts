/**
 * The in-memory adapters put together as the composition root will: the
 * projector runs the users projection from the memory store into the memory
 * read model, and two simulated instances share one lease table, so exactly
 * one runs it and the other takes over when the leader's lease is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/kernel/event-store.js';
import { createProjector, type Projector } from '../../src/kernel/projector.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { createMemoryLeaseTable } from '../../src/stores/memory/leases.js';
import { createMemoryProjectionSink } from '../../src/stores/memory/projection-sink.js';
import { createMemoryUsersReadModel, usersMemoryProjection } from '../../src/users/read-model/memory.js';
import { waitUntil } from '../support/wait.js';

const userCreated = (userId: string): NewEvent => ({
  type: 'UserCreated',
  data: { userId, username: `name_${userId}`, email: `${userId}@example.com` },
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
});

describe('projections on the in-memory store', () => {
  const projectors: Projector[] = [];
  afterEach(async () => {
    for (const projector of projectors.splice(0)) await projector.stop();
  });

  it('runs the users projection on one instance at a time, and hands it over when the lease is lost', async () => {
    const store = createMemoryEventStore();
    const { sink, rows } = createMemoryProjectionSink(usersMemoryProjection);
    const readModel = createMemoryUsersReadModel(rows);
    const table = createMemoryLeaseTable();
    const steppedDown: number[] = [];
    const instance = () => {
      const index = projectors.length;
      const onLeadership = (_name: string, leader: boolean) => void (leader || steppedDown.push(index));
      const projector = createProjector({ store, sinks: [sink], leases: table.instance(), pollIntervalMs: 20, onLeadership });
      projectors.push(projector);
      return projector;
    };
    const leaders = async () => Promise.all(projectors.map(async (p) => (await p.status())[0]!.leader));

    const first = instance();
    await first.start();
    await waitUntil(async () => (await leaders())[0] === true, 'the first instance to lead');
    const second = instance();
    await second.start();

    const created = await store.append({ streamId: 'user-u1', expectedVersion: 0, events: [userCreated('u1')] });
    expect(created.ok).toBe(true);
    expect(created.ok && (await second.waitFor(created.value.position, 5_000))).toBe(true);
    expect((await readModel.byIds(['u1']))[0]).toMatchObject({ username: 'name_u1', version: 1 });
    expect(await leaders()).toEqual([true, false]);

    expect(table.breakLease('users')).toBe(true);
    // The leader notices the loss and steps down; whichever instance bids first leads again, never both.
    await waitUntil(async () => steppedDown.includes(0) && (await leaders()).filter(Boolean).length === 1, 'the leader to step down and one to lead again');
    const later = await store.append({ streamId: 'user-u2', expectedVersion: 0, events: [userCreated('u2')] });
    expect(later.ok && (await first.waitFor(later.value.position, 5_000)) && (await second.waitFor(later.value.position, 5_000))).toBe(true);
    expect(await readModel.count()).toBe(2);
  });
});
