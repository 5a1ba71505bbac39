/**
 * The listening connection an instance shares between its event store and
 * its projections: channels added after it connected, and what happens when
 * its session dies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, type PgPool } from '../../src/stores/postgres/database.js';
import { createNotificationListener, type NotificationListener } from '../../src/stores/postgres/notifications.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { waitUntil } from '../support/wait.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL notification listener', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: PgPool;
  let listener: NotificationListener;
  const wakes = { first: 0, second: 0 };

  /** The sessions of this test's database that are listening on any channel. */
  const listeningSessions = async () =>
    (
      await pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
      )
    ).rows.map((row) => row.pid);

  beforeEach(async () => {
    database = await createTestDatabase('notifications');
    pool = openPostgres(database.url);
    listener = await createNotificationListener(database.url);
    wakes.first = 0;
    wakes.second = 0;
    await listener.listen('first', () => (wakes.first += 1));
    await listener.listen('second', () => (wakes.second += 1));
  });
  afterEach(async () => {
    await listener.close();
    await pool.end();
    await database.drop();
  });

  it('listens on every channel from one session, calling only the channel notified', async () => {
    expect(await listeningSessions()).toHaveLength(1);
    await pool.query(`NOTIFY "second"`);
    await waitUntil(() => wakes.second === 1, 'the second channel woken');
    expect(wakes.first).toBe(0);
  });

  it("passes each notification's payload, '' for none, and undefined after a reconnect (what was sent meanwhile is unknown)", async () => {
    const payloads: (string | undefined)[] = [];
    await listener.listen('first', (payload) => payloads.push(payload));
    await pool.query(`SELECT pg_notify('first', 'instance-a')`);
    await pool.query(`NOTIFY "first"`);
    await waitUntil(() => payloads.length === 2, 'both notifications');
    const [session] = await listeningSessions();
    await pool.query('SELECT pg_terminate_backend($1)', [session]);
    await waitUntil(() => payloads.length === 3, 'the wake-up after reconnecting');
    expect(payloads).toEqual(['instance-a', '', undefined]);
  });

  it('stops calling a listener that stopped listening', async () => {
    let third = 0;
    const stop = await listener.listen('second', () => (third += 1));
    await pool.query(`NOTIFY "second"`);
    await waitUntil(() => wakes.second === 1 && third === 1, 'both listeners of the channel woken');
    stop();
    await pool.query(`NOTIFY "second"`);
    await waitUntil(() => wakes.second === 2, 'the remaining listener woken');
    expect(third).toBe(1);
  });

  it('after its session is terminated, listens again on every channel and wakes each once for what it may have missed', async () => {
    const [session] = await listeningSessions();
    await pool.query('SELECT pg_terminate_backend($1)', [session]);
    await waitUntil(() => wakes.first === 1 && wakes.second === 1, 'one wake per channel after reconnecting');
    await waitUntil(async () => {
      const sessions = await listeningSessions();
      return sessions.length === 1 && sessions[0] !== session;
    }, 'a new listening session');
    await pool.query(`NOTIFY "first"`);
    await waitUntil(() => wakes.first === 2, 'the first channel woken on the new session');
    expect(wakes.second).toBe(1);
  });
});
