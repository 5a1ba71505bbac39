import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/stores/postgres/database.js';
import type { AppendRequest, EventStore } from '../../src/kernel/event-store.js';
import { LOG_START } from '../../src/kernel/position.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { appendBatch } from '../../src/stores/postgres/group-commit.js';
import { pgPositionParts } from '../../src/stores/postgres/position.js';
import { waitUntil } from '../support/wait.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { describeIdempotencyRetentionContract } from './idempotency-retention.contract.js';

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

  describeIdempotencyRetentionContract('PostgreSQL', async (idempotencyRetention) => {
    const database = await createTestDatabase('retention');
    const pool = openPostgres(database.url);
    const store = await createPostgresEventStore({ pool, connectionString: database.url, idempotencyRetention });
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

  describe('group commit', () => {
    const event = (n: number | string) => ({ type: 'Happened', data: { n }, metadata: { occurredAt: '2026-11-27T00:00:00.000Z' } });
    const email = (value: string) => ({ scope: 'email', value });
    const transactionOf = (position: unknown) => pgPositionParts(position as never).transactionId;

    /**
     * Readers see events below the oldest transaction still running on the whole server
     * (test files beside this one share it), so committed events can take a moment to show.
     */
    async function readableLog(store: EventStore, count: number) {
      await waitUntil(async () => (await store.readAll({ after: LOG_START, limit: 1000 })).length >= count, `${count} events to become readable`);
      return store.readAll({ after: LOG_START, limit: 1000 });
    }

    async function withStore(name: string, use: (store: EventStore) => Promise<void>) {
      const database = await createTestDatabase(name);
      const pool = openPostgres(database.url);
      const store = await createPostgresEventStore({ pool, connectionString: database.url });
      try {
        await use(store);
      } finally {
        await store.close();
        await pool.end();
        await database.drop();
      }
    }

    it('commits appends that arrive together in one transaction, at most 32 to a transaction', () =>
      withStore('group-size', async (store) => {
        const together = await Promise.all(
          Array.from({ length: 70 }, (_, i) => store.append({ streamId: `s${i}`, expectedVersion: 0, events: [event(i), event(i)] })),
        );
        const appended = together.map((outcome) => (outcome.ok ? outcome.value : expect.fail(JSON.stringify(outcome.error))));
        const perTransaction = new Map<string, number>();
        for (const a of appended) perTransaction.set(transactionOf(a.position), (perTransaction.get(transactionOf(a.position)) ?? 0) + 1);
        expect(Math.max(...perTransaction.values())).toBeLessThanOrEqual(32);
        expect(perTransaction.size).toBeLessThan(70 / 2);
        // Each caller gets its own events back, numbered in its stream, and the log holds them in that order.
        expect(appended[5]!.events.map((e) => [e.streamId, e.streamVersion, e.data])).toEqual([
          ['s5', 1, { n: 5 }],
          ['s5', 2, { n: 5 }],
        ]);
        const log = await readableLog(store, 140);
        expect(log).toHaveLength(140);
        expect(log.map((e) => e.position)).toEqual(appended.flatMap((a) => a.events.map((e) => e.position)).sort());
      }));

    it('undoes only the append that conflicts, with its own conflict, and commits the rest of its group', () =>
      withStore('group-conflicts', async (store) => {
        const setup = await Promise.all([
          store.append({ streamId: 'taken', expectedVersion: 0, events: [event('t')], claims: [email('taken@x')] }),
          store.append({ streamId: 'mover', expectedVersion: 0, events: [event('m')], claims: [email('old@x')] }),
        ]);
        expect(setup.every((outcome) => outcome.ok)).toBe(true);
        const requests: AppendRequest[] = [
          { streamId: 'a', expectedVersion: 0, events: [event('a')], claims: [email('a@x')] },
          { streamId: 'taken', expectedVersion: 0, events: [event('stale')] },
          // Frees old@x, then fails on its claim: the release must be undone with it.
          { streamId: 'mover', expectedVersion: 1, events: [event('move')], releases: [email('old@x')], claims: [email('taken@x')] },
          { streamId: 'b', expectedVersion: 0, events: [event('b')], claims: [email('a@x')] },
          { streamId: 'c', expectedVersion: 0, events: [event('c')], claims: [email('old@x')] },
        ];
        const [a, stale, mover, b, c] = await Promise.all(requests.map((request) => store.append(request)));
        expect(a!.ok).toBe(true);
        expect(stale).toEqual({ ok: false, error: { type: 'StreamVersionConflict', streamId: 'taken', expectedVersion: 0, actualVersion: 1 } });
        expect(mover).toEqual({ ok: false, error: { type: 'UniqueValueTaken', scope: 'email', value: 'taken@x', ownerStreamId: 'taken' } });
        // b claims what a, earlier in the same transaction, claimed; c claims what mover's undone release would have freed.
        expect(b).toEqual({ ok: false, error: { type: 'UniqueValueTaken', scope: 'email', value: 'a@x', ownerStreamId: 'a' } });
        expect(c).toEqual({ ok: false, error: { type: 'UniqueValueTaken', scope: 'email', value: 'old@x', ownerStreamId: 'mover' } });
        const log = await readableLog(store, 3);
        // The two set-up appends share a group, whose lock order (by claimed value) decides their order in the log.
        expect(log.map((e) => e.data)).toEqual([{ n: 'm' }, { n: 't' }, { n: 'a' }]);
      }));

    it('takes unique values in one order, so groups claiming two emails in opposite orders never deadlock', async () => {
      const database = await createTestDatabase('lock-order');
      const pool = openPostgres(database.url, { poolSize: 4 });
      const deadlocks = async () =>
        Number((await pool.query<{ n: string }>('SELECT pg_stat_clear_snapshot(), deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);
      try {
        // Opening the store migrates the database: the append functions exist from here.
        const store = await createPostgresEventStore({ pool, connectionString: database.url });
        await store.close();
        const before = await deadlocks();
        for (let round = 0; round < 20; round++) {
          const [first, second] = [email(`first${round}@x`), email(`second${round}@x`)];
          // Two groups committing at once, each claiming both emails, in opposite orders of arrival.
          const [one, other] = await Promise.all([
            appendBatch(pool, [
              { streamId: `one-a${round}`, expectedVersion: 0, events: [event(round)], claims: [first] },
              { streamId: `one-b${round}`, expectedVersion: 0, events: [event(round)], claims: [second] },
            ]),
            appendBatch(pool, [
              { streamId: `other-a${round}`, expectedVersion: 0, events: [event(round)], claims: [second] },
              { streamId: `other-b${round}`, expectedVersion: 0, events: [event(round)], claims: [first] },
            ]),
          ]);
          const outcomes = [...one!, ...other!];
          // A deadlock would surface as a lost version race (to be retried); each claim must instead meet its merits.
          expect(outcomes.filter((o) => !o.ok && o.error.type !== 'UniqueValueTaken')).toEqual([]);
          // Whichever group locked the first email first wins both; the other meets both as taken.
          const winners = [one!, other!].filter((group) => group.every((o) => o.ok));
          const losers = [one!, other!].filter((group) => group.every((o) => !o.ok));
          expect([winners.length, losers.length]).toEqual([1, 1]);
        }
        // Statistics reach the shared counters within a second of each backend's last transaction.
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        expect(await deadlocks()).toBe(before);
      } finally {
        await pool.end();
        await database.drop();
      }
    });

    it('answers stream reads made at the same moment (one query) each with its own stream', () =>
      withStore('stream-reads', async (store) => {
        for (const [streamId, count] of [['a', 3], ['b', 1]] as const) {
          const appended = await store.append({ streamId, expectedVersion: 0, events: Array.from({ length: count }, (_, i) => event(`${streamId}${i}`)) });
          expect(appended.ok).toBe(true);
        }
        const [a, missing, b, again] = await Promise.all(['a', 'missing', 'b', 'a'].map((id) => store.readStream(id)));
        expect(a!.version).toBe(3);
        expect(a!.events.map((e) => [e.streamId, e.streamVersion, e.data])).toEqual([
          ['a', 1, { n: 'a0' }],
          ['a', 2, { n: 'a1' }],
          ['a', 3, { n: 'a2' }],
        ]);
        expect(missing).toEqual({ version: 0, events: [] });
        expect(b!.events.map((e) => e.data)).toEqual([{ n: 'b0' }]);
        expect(again).toEqual(a);
      }));

    it('gives an append the database refuses its own error, and still commits the others of its group', () =>
      withStore('group-error', async (store) => {
        // jsonb refuses the NUL character: an error that is no conflict, from one append of the group.
        const outcomes = await Promise.allSettled([
          store.append({ streamId: 'before', expectedVersion: 0, events: [event(1)] }),
          store.append({ streamId: 'refused', expectedVersion: 0, events: [event('nul \u0000 inside')] }),
          store.append({ streamId: 'after', expectedVersion: 0, events: [event(2)] }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/unicode|\\u0000/i);
        // Tried alone after the group failed, concurrently: in either order.
        const log = await readableLog(store, 2);
        expect(log.map((e) => e.streamId).sort()).toEqual(['after', 'before']);
      }));
  });
});
