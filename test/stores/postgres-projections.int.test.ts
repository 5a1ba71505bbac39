/**
 * Projections on PostgreSQL: the checkpoint guard, leadership through
 * advisory-lock leases, and takeover when the leader's session dies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { createProjector, type ProjectionSink, type Projector } from '../../src/kernel/projector.js';
import { rebuildProjection } from '../../src/kernel/rebuild.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { openPostgres, type PgPool } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createPostgresLeases } from '../../src/stores/postgres/leases.js';
import { createPostgresProjectionSinks, preparePostgresReadModel } from '../../src/stores/postgres/projection-sink.js';
import { createPostgresUsersReadModel, usersPostgresProjection } from '../../src/users/read-model/postgres.js';
import { USER_STREAMS } from '../../src/users/user.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { waitUntil } from '../support/wait.js';

const userCreated = (userId: string): NewEvent => ({
  type: 'UserCreated',
  data: { userId, username: `name_${userId}`, email: `${userId}@example.com` },
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
});
const renamed = (userId: string, username: string): NewEvent => ({
  type: 'UserUpdated',
  data: { userId, username },
  metadata: { occurredAt: '2026-01-02T00:00:00.000Z' },
});

describe.skipIf(postgresUnavailable !== null)('projections on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const cleanups: (() => Promise<void>)[] = [];
  let store: EventStore;
  let storePool: PgPool;

  /** One "instance": its own pool, sinks and leases, as a separate process would have. */
  const instance = async (name: string, pollIntervalMs = 100) => {
    const pool = openPostgres(database.url, { poolSize: 5, applicationName: name });
    await preparePostgresReadModel(pool, [usersPostgresProjection]);
    const { sinks, close } = await createPostgresProjectionSinks(pool, database.url, [usersPostgresProjection]);
    const projector = createProjector({ store, sinks, leases: createPostgresLeases(pool), pollIntervalMs });
    cleanups.push(async () => {
      await projector.stop();
      await close();
      await pool.end();
    });
    return { pool, sink: sinks[0]!, projector };
  };
  /** Appends to a user's stream (`user-<id>`), as the user handlers do. */
  const append = async (userId: string, expectedVersion: number, ...events: NewEvent[]): Promise<Position> => {
    const result = await store.append({ streamId: streamIdOf(USER_STREAMS, userId), expectedVersion, events });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    return result.value.position;
  };
  /**
   * The first `count` events, once all are readable: readers see only events below the oldest
   * transaction running anywhere on the server, which tests beside this one can hold back a moment.
   */
  const readable = async (count: number) => {
    let events: readonly StoredEvent[] = [];
    await waitUntil(async () => (events = await store.readAll({ after: LOG_START, limit: count })).length === count, `${count} readable events`);
    return events;
  };
  const leaders = async (...projectors: Projector[]) =>
    (await Promise.all(projectors.map((p) => p.status()))).map((status) => status[0]!.leader);

  beforeEach(async () => {
    database = await createTestDatabase('projections');
    storePool = openPostgres(database.url);
    store = await createPostgresEventStore({ pool: storePool, connectionString: database.url });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await store.close();
    await storePool.end();
    await database.drop();
  });

  it('applies a batch once: a stale checkpoint writes nothing', async () => {
    await append('a', 0, userCreated('a'));
    await append('b', 0, userCreated('b'), renamed('b', 'bee'));
    const { sink, pool } = await instance('guard');
    const events = await readable(3);
    expect(await sink.apply(events.slice(0, 2), LOG_START)).toBe(true);
    expect(await sink.apply(events.slice(0, 2), LOG_START)).toBe(false);
    expect(await sink.apply(events.slice(2), events[0]!.position)).toBe(false);
    expect(await sink.checkpoint()).toBe(events[1]!.position);
    expect(await sink.apply(events.slice(2), events[1]!.position)).toBe(true);
    const readModel = createPostgresUsersReadModel(pool);
    expect(await readModel.count()).toBe(2);
    expect((await readModel.byIds(['b']))[0]).toMatchObject({ username: 'bee', version: 2, createdPosition: events[1]!.position });
    await sink.reset();
    expect(await sink.checkpoint()).toBe(LOG_START);
    expect(await readModel.count()).toBe(0);
  });

  it('projects events held back by a transaction that ends without a notification, without waiting for a poll', async () => {
    const first = await append('a', 0, userCreated('a'));
    // An open transaction with an id holds back every event committed after it began, and
    // its rollback sends no notification (as a projection's own transaction would not).
    const holder = await storePool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const heldBack = await append('b', 0, userCreated('b'));
      // Polling every minute: only the held-back check can deliver it within the waits below.
      const { projector, pool } = await instance('held-back', 60_000);
      await projector.start();
      expect(await projector.waitFor(first, 10_000)).toBe(true);
      expect(await projector.waitFor(heldBack, 300)).toBe(false);
      await holder.query('ROLLBACK');
      expect(await projector.waitFor(heldBack, 5_000)).toBe(true);
      expect(await createPostgresUsersReadModel(pool).count()).toBe(2);
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
  });

  it('rebuilds every event committed before the rebuild began, waiting out an older transaction that holds some back', async () => {
    await append('a', 0, userCreated('a'));
    const holder = await storePool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      const heldBack = await append('a', 1, renamed('a', 'after the holder began'));
      expect(await store.lastCommittedPosition()).toBe(heldBack);
      expect(await store.headPosition()).not.toBe(heldBack);
      const { sink, pool } = await instance('rebuilder');
      let finished = false;
      const rebuilt = rebuildProjection(store, sink).finally(() => (finished = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(finished).toBe(false);
      await holder.query('ROLLBACK');
      expect(await rebuilt).toMatchObject({ applied: 2 });
      expect((await createPostgresUsersReadModel(pool).byIds(['a']))[0]).toMatchObject({ username: 'after the holder began', version: 2 });
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      holder.release();
    }
  });

  it('applies a batch once when two instances apply it at the same moment, first batch or later', async () => {
    for (let i = 0; i < 6; i++) await append(`u${i}`, 0, userCreated(`u${i}`));
    const [a, b] = [await instance('racer-a'), await instance('racer-b')];
    const events = await readable(6);
    // The first batch races on a checkpoint row that does not exist yet; the second on one that does.
    const first = await Promise.all([a.sink.apply(events.slice(0, 3), LOG_START), b.sink.apply(events.slice(0, 3), LOG_START)]);
    const second = await Promise.all([a.sink.apply(events.slice(3), events[2]!.position), b.sink.apply(events.slice(3), events[2]!.position)]);
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(second.filter(Boolean)).toHaveLength(1);
    expect(await a.sink.checkpoint()).toBe(events[5]!.position);
    // Counted once: the loser's upsert and count were rolled back with its checkpoint move.
    expect(await createPostgresUsersReadModel(a.pool).count()).toBe(6);
  });

  it('writes nothing when a reset and a replay brought the checkpoint back between its read and its write', async () => {
    await append('a', 0, userCreated('a'));
    await append('a', 1, renamed('a', 'second'));
    const { sink, pool } = await instance('stale');
    const events = await readable(2);
    expect(await sink.apply(events.slice(0, 1), LOG_START)).toBe(true);

    // Another runner's reset and replay back to the same position, not yet committed: it holds
    // the checkpoint row, and leaves the user in a state this batch's read does not show.
    const other = await pool.connect();
    await other.query('BEGIN');
    await other.query(`UPDATE users SET username = 'replayed' WHERE id = 'a'`);
    await other.query(`UPDATE projection_checkpoints SET generation = generation + 1 WHERE name = 'users'`);
    const applying = sink.apply(events.slice(1), events[0]!.position);
    await waitUntil(
      async () =>
        (await pool.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'stale' AND wait_event_type = 'Lock'`)).rowCount === 1,
      'the batch to wait on the checkpoint row',
    );
    await other.query('COMMIT');
    other.release();

    expect(await applying).toBe(false);
    expect((await createPostgresUsersReadModel(pool).byIds(['a']))[0]).toMatchObject({ username: 'replayed', version: 1 });
    expect(await sink.checkpoint()).toBe(events[0]!.position);
  });

  it('runs each projection on one instance; the other answers waits from the shared checkpoint; a lost lease is re-elected', async () => {
    const first = await instance('first');
    await first.projector.start();
    await waitUntil(async () => (await leaders(first.projector))[0] === true, 'the first instance to lead');
    const second = await instance('second');
    await second.projector.start();
    // A follower keeps bidding; it must not get the lease while the leader lives.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await leaders(first.projector, second.projector)).toEqual([true, false]);

    const position = await append('u1', 0, userCreated('u1'));
    expect(await second.projector.waitFor(position, 10_000)).toBe(true);
    expect(await createPostgresUsersReadModel(second.pool).count()).toBe(1);

    // The leader's lease connection dies (as when its process is killed): PostgreSQL frees the lock.
    // pg_locks is server-wide: without the database filter this picked, now and then, a connection
    // of a test running beside it (one holding the migration lock) and killed that one instead.
    const holders = async () =>
      (
        await storePool.query<{ pid: number }>(
          `SELECT pid FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      ).rows.map((r) => r.pid);
    const [killed] = await holders();
    await storePool.query('SELECT pg_terminate_backend($1)', [killed]);
    // The first notices its lease is gone; whichever instance bids first leads, never both.
    await waitUntil(
      async () => {
        const pids = await holders();
        const leading = (await leaders(first.projector, second.projector)).filter(Boolean).length;
        return leading === 1 && pids.length === 1 && pids[0] !== killed;
      },
      'one leader holding the lease on a new session',
      10_000,
    );
    const later = await append('u2', 0, userCreated('u2'), renamed('u2', 'two'));
    expect(await first.projector.waitFor(later, 10_000)).toBe(true);
    expect(await second.projector.waitFor(later, 10_000)).toBe(true);
    const readModel = createPostgresUsersReadModel(second.pool);
    expect(await readModel.count()).toBe(2);
    expect((await readModel.byIds(['u2']))[0]).toMatchObject({ username: 'two', version: 2 });
  });
});
