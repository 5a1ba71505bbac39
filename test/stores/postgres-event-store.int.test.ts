import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { waitUntil } from '../support/wait.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeEventStoreContract } from './event-store.contract.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL event store', () => {
  describeEventStoreContract('PostgreSQL', async () => {
    const database = await createTestDatabase('contract');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  });

  it('wakes the listeners of another instance on the same database (LISTEN/NOTIFY), and not for a rejected append', async () => {
    const database = await createTestDatabase('notify');
    const pools = [openPostgres(database.url), openPostgres(database.url)];
    const [writer, reader] = await Promise.all(pools.map((pool) => createPostgresEventStore({ pool, connectionString: database.url })));
    try {
      let wakes = 0;
      const woken = new Promise<void>((resolve) => reader!.onAppended(() => ((wakes += 1), resolve())));
      const event = { type: 'Happened', data: {}, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } };
      const appended = await writer!.append({ streamId: 's', expectedVersion: 0, events: [event] });
      expect(appended.ok).toBe(true);
      // The reader has no poll of its own: only the writer's NOTIFY can wake it.
      await woken;
      // Readers see events below the oldest transaction still running anywhere on the server
      // (transaction ids are shared by all databases), so tests running beside this one can hold it back a moment.
      const position = appended.ok && appended.value.position;
      await waitUntil(async () => (await reader!.headPosition()) === position, 'the appended event to become readable');
      expect(await reader!.headPosition()).toBe(position);
      const before = wakes;
      const rejected = await writer!.append({ streamId: 's', expectedVersion: 0, events: [event] });
      expect(rejected.ok).toBe(false);
      // A marker append after the rejected one: when its wake-up arrives, a wake-up for the rejected one would have too.
      const marker = new Promise<void>((resolve) => reader!.onAppended(() => resolve()));
      await writer!.append({ streamId: 'marker', expectedVersion: 0, events: [event] });
      await marker;
      expect(wakes - before).toBe(1);
    } finally {
      await writer!.close();
      await reader!.close();
      await Promise.all(pools.map((pool) => pool.end()));
      await database.drop();
    }
  });
});
