/**
 * An append's NOTIFY names the instance that wrote it (event store migration
 * 8), so an instance wakes once for its own commit (it signals that itself)
 * instead of again for the echo, and still wakes for everyone else: other
 * instances, sessions of an older build that send no name, and a reconnect.
 * The wake-ups are counted, never timed: a probe on the same listening
 * connection sees each notification after the store's handler has, so once
 * the probe has seen a later, foreign notification every echo before it has
 * been handled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppendRequest, EventStore } from '../../src/kernel/event-store.js';
import { LOG_START } from '../../src/kernel/position.js';
import { instanceNameOf, migrate, openPostgres, type PgPool } from '../../src/stores/postgres/database.js';
import { EVENTS_CHANNEL } from '../../src/stores/postgres/event-store-schema.js';
import { createPostgresEventStore, postgresEventStoreMigrations } from '../../src/stores/postgres/event-store.js';
import { appendBatch } from '../../src/stores/postgres/group-commit.js';
import { pgPositionParts } from '../../src/stores/postgres/position.js';
import { createNotificationListener, type NotificationListener } from '../../src/stores/postgres/notifications.js';
import { createTestDatabase, openTestPool, postgresUnavailable } from '../support/postgres.js';
import { waitUntil } from '../support/wait.js';

const event = (n: number | string) => ({ type: 'Happened', data: { n }, metadata: { occurredAt: '2026-12-06T00:00:00.000Z' } });
const request = (streamId: string, n: number | string = streamId): AppendRequest => ({ streamId, expectedVersion: 0, events: [event(n)] });

/** The statement an instance of the build before migration 8 sends for a lone append. */
const appendAsOldBuild = (pool: PgPool, streamId: string) =>
  pool.query('SELECT * FROM cqrs_append_events($1, 0, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL)', [
    streamId,
    ['Happened'],
    [1],
    [JSON.stringify({ n: streamId })],
    [JSON.stringify(event(streamId).metadata)],
    [],
    [],
    [],
    [],
  ]);

/** An instance: its named pool, its own listening connection with a probe on the events channel, and its store. */
async function openInstance(url: string) {
  const pool = openPostgres(url, { poolSize: 3 });
  const notifications = await createNotificationListener(url);
  const payloads: (string | undefined)[] = [];
  await notifications.listen(EVENTS_CHANNEL, (payload) => payloads.push(payload));
  const store = await createPostgresEventStore({ pool, connectionString: url, notifications });
  let wakes = 0;
  store.onAppended(() => (wakes += 1));
  return {
    pool,
    store,
    name: instanceNameOf(pool)!,
    /** Payloads seen on this instance's listening connection, in order of arrival. */
    payloads,
    wakes: () => wakes,
    close: async () => {
      await store.close();
      await notifications.close();
      await pool.end();
    },
  };
}

async function readableCount(store: EventStore, count: number) {
  await waitUntil(async () => (await store.readAll({ after: LOG_START, limit: 1000 })).length >= count, `${count} events to become readable`);
  return (await store.readAll({ after: LOG_START, limit: 1000 })).length;
}

describe.skipIf(postgresUnavailable !== null)('PostgreSQL append notifications name their instance', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const database = async (name: string) => {
    const created = await createTestDatabase(name);
    cleanups.push(created.drop);
    return created.url;
  };
  const instance = async (url: string) => {
    const opened = await openInstance(url);
    cleanups.push(opened.close);
    return opened;
  };

  it("wakes an instance once per own append, not again for the echo, and for another instance's append", async () => {
    const url = await database('own_echoes');
    const [own, other] = [await instance(url), await instance(url)];
    expect(own.name).not.toBe(other.name);
    const appends = 5;
    for (let i = 0; i < appends - 1; i++) expect((await own.store.append(request(`own${i}`))).ok).toBe(true);
    // A keyed append commits through its own transaction: its echo is named too.
    const keyed = await own.store.append({ ...request('keyed'), idempotency: { key: 'k1', requestHash: 'h', outcome: () => ({}) } });
    expect(keyed.ok).toBe(true);
    expect(own.wakes()).toBe(appends);

    expect((await other.store.append(request('other'))).ok).toBe(true);
    await waitUntil(() => own.payloads.includes(other.name), "the other instance's notification");
    // Every echo arrived (named, so the name reaches the listener) and woke nothing.
    expect(own.payloads).toEqual([...Array.from({ length: appends }, () => own.name), other.name]);
    expect(own.wakes()).toBe(appends + 1);
  });

  it('wakes once for a group commit of several appends (one transaction, one notification)', async () => {
    const url = await database('group_echo');
    const [own, other] = [await instance(url), await instance(url)];
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => own.store.append(request(`g${i}`))));
    const transactions = new Set(outcomes.map((outcome) => (outcome.ok ? pgPositionParts(outcome.value.position).transactionId : expect.fail('append failed'))));
    expect((await other.store.append(request('marker'))).ok).toBe(true);
    await waitUntil(() => own.payloads.includes(other.name), "the other instance's notification");
    // However the appends were grouped: one notification per transaction, one wake-up per commit.
    expect(own.payloads).toEqual([...Array.from(transactions, () => own.name), other.name]);
    expect(own.wakes()).toBe(transactions.size + 1);
  });

  it('wakes for a session without a name (an older build), and once after its listening session is lost', async () => {
    const url = await database('unnamed');
    const own = await instance(url);
    const unnamed = openTestPool({ connectionString: url, max: 1 });
    cleanups.push(() => unnamed.end());
    expect(instanceNameOf(unnamed)).toBeUndefined();

    await appendAsOldBuild(unnamed, 'old-single');
    await waitUntil(() => own.wakes() === 1, 'a wake-up for the unnamed append');
    const [batched] = await appendBatch(unnamed, [request('old-batched')]);
    expect(batched!.ok).toBe(true);
    await waitUntil(() => own.wakes() === 2, 'a wake-up for the unnamed group');
    expect(own.payloads).toEqual(['', '']);

    const { rows } = await own.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
    );
    expect(rows).toHaveLength(1);
    await own.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    // Whatever was sent while it was away is unknown: it wakes, whoever may have sent it.
    await waitUntil(() => own.wakes() === 3, 'a wake-up after reconnecting');
    expect(own.payloads.at(-1)).toBeUndefined();
  });

  it('migrates while an instance of the older build runs: each keeps appending, each wakes for the other, both read everything', async () => {
    const url = await database('rolling');
    // The older build: schema version 7, sessions without a name, a listener that ignores payloads.
    const oldPool = openTestPool({ connectionString: url, max: 2 });
    cleanups.push(() => oldPool.end());
    await migrate(oldPool, 'event-store', postgresEventStoreMigrations(undefined).filter((migration) => migration.version <= 7));
    const oldListener: NotificationListener = await createNotificationListener(url);
    cleanups.push(() => oldListener.close());
    let oldWakes = 0;
    await oldListener.listen(EVENTS_CHANNEL, () => (oldWakes += 1));
    // Its sessions have run (and cached) the function as migration 6 wrote it.
    await appendAsOldBuild(oldPool, 'before-single');
    expect((await appendBatch(oldPool, [request('before-batched')]))[0]!.ok).toBe(true);
    await waitUntil(() => oldWakes === 2, 'the older build woken by its own appends');

    // A new instance starts and migrates the live database to version 8.
    const fresh = await instance(url);
    const version = await oldPool.query<{ version: number }>("SELECT version FROM schema_versions WHERE component = 'event-store'");
    expect(version.rows).toEqual([{ version: 8 }]);

    // The older build's sessions go on with the same statements, now running version 8's function.
    await appendAsOldBuild(oldPool, 'after-single');
    expect((await appendBatch(oldPool, [request('after-batched')]))[0]!.ok).toBe(true);
    await waitUntil(() => fresh.wakes() === 2, 'the new instance woken by both appends of the older build');
    expect(fresh.payloads).toEqual(['', '']);

    // The new instance's appends wake the older build, which takes any payload as a wake-up.
    expect((await fresh.store.append(request('fresh'))).ok).toBe(true);
    expect((await fresh.store.append({ ...request('fresh-keyed'), idempotency: { key: 'k2', requestHash: 'h', outcome: () => ({}) } })).ok).toBe(true);
    await waitUntil(() => oldWakes === 6, 'the older build woken by every later append');

    // Both read all six events.
    expect(await readableCount(fresh.store, 6)).toBe(6);
    const oldRead = await oldPool.query<{ stream_id: string }>('SELECT stream_id FROM events ORDER BY transaction_id, position');
    expect(oldRead.rows.map((row) => row.stream_id)).toEqual(['before-single', 'before-batched', 'after-single', 'after-batched', 'fresh', 'fresh-keyed']);
  });
});
