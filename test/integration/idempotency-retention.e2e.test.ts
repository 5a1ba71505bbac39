/**
 * Idempotency keys expire (IDEMPOTENCY_RETENTION_SECONDS), through the real
 * server on SQLite and, in the `postgres` project, on PostgreSQL. A one-second
 * window: the pruner then runs a tenth of a second apart.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateUserDocument, type CreateUserInput } from '../gql/graphql.js';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { executeOk, expectType } from '../support/graphql.js';
import { scrape } from '../support/metrics.js';
import { createTestDatabase, openTestPool } from '../support/postgres.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const WINDOW_SECONDS = 1;

type Started = Readonly<{ server: TestServer; countRecords: () => Promise<number>; stop: () => Promise<void> }>;

/** A server with a short window, and a way to count its idempotency_records rows straight from the store. */
async function startWithShortWindow(): Promise<Started> {
  const env = { IDEMPOTENCY_RETENTION_SECONDS: String(WINDOW_SECONDS) };
  if (process.env['TEST_STORE'] === 'postgres') {
    const database = await createTestDatabase('retention');
    const server = await startTestServer({ env: { ...env, DATABASE_URL: database.url } });
    const pool = openTestPool({ connectionString: database.url, max: 1 });
    return {
      server,
      countRecords: async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_records')).rows[0]!.n,
      stop: async () => {
        await server.stop();
        await pool.end();
        await database.drop();
      },
    };
  }
  const server = await startTestServer({ env });
  const db = openSqlite(join(server.dataDir, 'events.db'), { readonly: true });
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM idempotency_records');
  return {
    server,
    countRecords: async () => count.get()!.n,
    stop: async () => {
      db.close();
      await server.stop();
    },
  };
}

let started: Started | undefined;
afterEach(async () => {
  await started?.stop();
  started = undefined;
});

let counter = 0;
const fresh = (prefix: string) => {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
};

async function createUser(server: TestServer, input: CreateUserInput) {
  return (await executeOk(server.url, CreateUserDocument, { input })).createUser;
}

describe('idempotency retention', () => {
  it('within the window: same input, same answer; other input, a ValidationError. After it: a new request', async () => {
    started = await startWithShortWindow();
    const { server } = started;
    const key = `retained-${++counter}`;
    const firstInput = { ...fresh('first'), idempotencyKey: key };
    const first = expectType(await createUser(server, firstInput), 'CreateUserSuccess');
    const again = expectType(await createUser(server, firstInput), 'CreateUserSuccess');
    expect(again.user.id).toBe(first.user.id);
    expect(again.position).toBe(first.position);

    // Reused with other input: refused for as long as the key is remembered, then a new request.
    const secondInput = { ...fresh('second'), idempotencyKey: key };
    const refused = expectType(await createUser(server, secondInput), 'ValidationError');
    expect(refused.fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    const answers: Awaited<ReturnType<typeof createUser>>[] = [];
    await waitUntil(async () => {
      const answer = await createUser(server, secondInput);
      answers.push(answer);
      return answer.__typename !== 'ValidationError';
    }, 'the key to expire');
    for (const early of answers.slice(0, -1)) expect(expectType(early, 'ValidationError').fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    const created = expectType(answers.at(-1)!, 'CreateUserSuccess');
    expect(created.user.id).not.toBe(first.user.id);
    expect(created.user.username).toBe(secondInput.username);

    // The key now answers for the second request, for a window of its own.
    const replay = expectType(await createUser(server, secondInput), 'CreateUserSuccess');
    expect(replay.user.id).toBe(created.user.id);
    expect(replay.position).toBe(created.position);
    expect(expectType(await createUser(server, firstInput), 'ValidationError').fields.map((f) => f.field)).toEqual(['idempotencyKey']);
  });

  it('holds the table to about one window of keys under a steady keyed load', async () => {
    started = await startWithShortWindow();
    const { server, countRecords } = started;
    const LOAD_MS = 5000;
    const WORKERS = 4;
    // A row is pruned within a window and a pruning interval of its request; the slack absorbs a busy machine.
    const SLACK_MS = 1000;
    const completedAt: number[] = [];
    let inFlight = 0;
    const loadEnds = Date.now() + LOAD_MS;
    const worker = async () => {
      while (Date.now() < loadEnds) {
        inFlight += 1;
        const created = await createUser(server, { ...fresh('load'), idempotencyKey: `load-${counter}` });
        inFlight -= 1;
        expectType(created, 'CreateUserSuccess');
        completedAt.push(Date.now());
      }
    };
    const samples: { rows: number; recent: number; at: number }[] = [];
    const sampler = async () => {
      while (Date.now() < loadEnds) {
        const from = Date.now();
        const flying = inFlight;
        const rows = await countRecords();
        // Every row held must belong to a request that finished lately, or is still running.
        const recent = completedAt.filter((at) => at >= from - WINDOW_SECONDS * 1000 - SLACK_MS).length + flying + WORKERS;
        samples.push({ rows, recent, at: from });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const loadStarted = Date.now();
    await Promise.all([...Array.from({ length: WORKERS }, worker), sampler()]);

    const total = completedAt.length;
    for (const sample of samples) expect(sample.rows, `rows at ${sample.at - loadStarted} ms`).toBeLessThanOrEqual(sample.recent);
    // Flat rather than growing with the requests: the second half of the run holds well under the requests made.
    const secondHalf = samples.filter((s) => s.at - loadStarted >= LOAD_MS / 2);
    expect(secondHalf.length).toBeGreaterThan(3);
    const heldLate = Math.max(...secondHalf.map((s) => s.rows));
    expect(heldLate * 2, `${heldLate} rows held late, ${total} requests`).toBeLessThan(total);

    // Once the load stops, every record expires and is pruned, each counted once.
    await waitUntil(async () => (await countRecords()) === 0, 'every record to be pruned');
    const metrics = await scrape(server.url);
    expect(metrics.value('cqrs_idempotency_records_pruned_total')).toBe(total);
    expect(metrics.value('cqrs_idempotency_oldest_record_age_seconds')).toBe(0);
  });
});
