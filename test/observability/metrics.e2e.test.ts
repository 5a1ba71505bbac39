import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CreateUserDocument, UpdateUserDocument, UserDocument, UserEventsDocument, UsersDocument } from '../gql/graphql.js';
import { execute, executeOk, expectType } from '../support/graphql.js';
import { scrape } from '../support/metrics.js';
import { LOG_START, sqliteSequence } from '../support/positions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const createUser = async (username: string, email: string) =>
  (await executeOk(server.url, CreateUserDocument, { input: { username, email } })).createUser;

describe('/metrics', () => {
  it('serves the Prometheus text format with the process metrics', async () => {
    const metrics = await scrape(server.url);
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.select('nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('counts and times commands by type and outcome, and the events they appended', async () => {
    const successes = 4;
    const users = [];
    for (let i = 0; i < successes; i++) users.push(expectType(await createUser(`metrics_${i}`, `metrics.${i}@example.com`), 'CreateUserSuccess'));
    expectType(await createUser('x', 'not-an-email'), 'ValidationError');
    expectType(await createUser('metrics_taken', 'METRICS.0@example.com'), 'EmailTaken');
    expectType(await createUser('metrics_taken2', 'metrics.1@EXAMPLE.com'), 'EmailTaken');
    const renamed = await executeOk(server.url, UpdateUserDocument, { input: { id: users[0]!.user.id, username: 'metrics_renamed' } });
    expectType(renamed.updateUser, 'UpdateUserSuccess');

    const metrics = await scrape(server.url);
    const commands = (outcome: string, command = 'CreateUser') => metrics.value('cqrs_commands_total', { command, outcome });
    expect(commands('success')).toBe(successes);
    expect(commands('ValidationError')).toBe(1);
    expect(commands('EmailTaken')).toBe(2);
    expect(commands('success', 'UpdateUser')).toBe(1);
    expect(metrics.select('cqrs_commands_total')).toHaveLength(4);
    const timed = (outcome: string) =>
      metrics.value('cqrs_command_duration_seconds_count', { command: 'CreateUser', outcome });
    expect([timed('success'), timed('ValidationError'), timed('EmailTaken')]).toEqual([successes, 1, 2]);
    expect(metrics.value('cqrs_command_duration_seconds_bucket', { command: 'CreateUser', outcome: 'success', le: '+Inf' })).toBe(successes);

    const stored = await server.system.store.readAll({ after: LOG_START, limit: 1000 });
    const storedOf = (type: string) => stored.filter((event) => event.type === type).length;
    expect(metrics.value('cqrs_events_appended_total', { event_type: 'UserCreated' })).toBe(storedOf('UserCreated'));
    expect(metrics.value('cqrs_events_appended_total', { event_type: 'UserUpdated' })).toBe(storedOf('UserUpdated'));
    expect(storedOf('UserCreated') + storedOf('UserUpdated')).toBe(successes + 1);
  });

  it('counts queries by type and outcome', async () => {
    const before = await scrape(server.url);
    const getUser = (m: typeof before) => m.value('cqrs_queries_total', { query: 'GetUser', outcome: 'success' }) ?? 0;
    await executeOk(server.url, UserDocument, { id: 'nobody' });
    const invalid = await execute(server.url, UsersDocument, { first: -1 });
    expect(invalid.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const after = await scrape(server.url);
    expect(getUser(after) - getUser(before)).toBe(1);
    expect(after.value('cqrs_queries_total', { query: 'GetUsers', outcome: 'InvalidPageRequest' })).toBe(1);
    expect(after.value('cqrs_query_duration_seconds_count', { query: 'GetUsers', outcome: 'InvalidPageRequest' })).toBe(1);
  });

  it('reports each projection caught up: lag back to 0 and the checkpoint at the head', async () => {
    expectType(await createUser('metrics_lag', 'metrics.lag@example.com'), 'CreateUserSuccess');
    const head = await server.system.store.headPosition();
    await waitUntil(async () => (await scrape(server.url)).value('cqrs_projection_lag_events', { projection: 'users' }) === 0, 'lag 0');
    const metrics = await scrape(server.url);
    expect(metrics.value('cqrs_projection_checkpoint', { projection: 'users' })).toBe(sqliteSequence(server.system.store.formatPosition(head)));
    expect(metrics.value('cqrs_projection_failing', { projection: 'users' })).toBe(0);
  });

  it('shows active subscriptions per transport, back to 0 once they complete', async () => {
    const active = async (transport: string) => (await scrape(server.url)).value('cqrs_subscriptions_active', { transport });
    expect(await active('ws')).toBe(0);
    const ws = openClient('graphql-ws', server);
    const sse = openClient('graphql-sse', server);
    const wsSubscriptions = [1, 2, 3].map(() => ws.subscribe(UserEventsDocument, { after: '0' }));
    const sseSubscription = sse.subscribe(UserEventsDocument, { after: '0' });
    await Promise.all([...wsSubscriptions, sseSubscription].map((s) => s.waitForResults(1)));
    await waitUntil(async () => (await active('ws')) === 3 && (await active('sse')) === 1, '3 ws and 1 sse subscriptions counted');

    // A subscription that fails before it streams is never counted.
    const refused = ws.subscribe(UserEventsDocument, { after: 'not-a-position' });
    await refused.waitForEnd();
    expect(await active('ws')).toBe(3);

    for (const subscription of [...wsSubscriptions, sseSubscription]) subscription.dispose();
    await waitUntil(async () => (await active('ws')) === 0 && (await active('sse')) === 0, 'the gauges back at 0');
    await Promise.all([ws.dispose(), sse.dispose()]);
  });

  it('takes subscriptions off the gauge when their clients vanish without completing them', async () => {
    const active = async (transport: string) => (await scrape(server.url)).value('cqrs_subscriptions_active', { transport });
    const query = 'subscription { userEvents(after: "0") { position } }';

    const ws = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    ws.subscribe({ query }, { next: () => {}, error: () => {}, complete: () => {} });
    const aborted = new AbortController();
    const sse = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
      signal: aborted.signal,
    });
    await sse.body!.getReader().read(); // the first event: the subscription is streaming
    await waitUntil(async () => (await active('ws')) === 1 && (await active('sse')) === 1, 'both subscriptions counted');

    ws.terminate(); // the socket is dropped, no "complete" is sent
    aborted.abort();
    await waitUntil(async () => (await active('ws')) === 0 && (await active('sse')) === 0, 'the gauges back at 0');
  });
});

describe('a failing projection', () => {
  it('shows as failing, with its lag, and as caught up once it recovers', async () => {
    const failing = await startTestServer({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '50' } });
    const readDb = new Database(join(failing.dataDir, 'read.db'));
    try {
      const projection = async () => {
        const metrics = await scrape(failing.url);
        return [metrics.value('cqrs_projection_failing', { projection: 'users' }), metrics.value('cqrs_projection_lag_events', { projection: 'users' })];
      };
      expect(await projection()).toEqual([0, 0]);
      readDb.exec("CREATE TRIGGER refuse BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
      const created = await executeOk(failing.url, CreateUserDocument, { input: { username: 'stuck', email: 'stuck@example.com' } });
      expectType(created.createUser, 'CreateUserSuccess');
      await waitUntil(async () => (await projection())[0] === 1, 'the projection to report failing');
      expect((await projection())[1]).toBe(1);

      readDb.exec('DROP TRIGGER refuse');
      await waitUntil(async () => (await projection()).join() === '0,0', 'the projection to recover and catch up');
    } finally {
      readDb.close();
      await failing.stop();
    }
  });
});

describe('METRICS=false', () => {
  it('serves no /metrics', async () => {
    const quiet = await startTestServer({ env: { METRICS: 'false' } });
    try {
      expect((await scrape(quiet.url)).status).toBe(404);
    } finally {
      await quiet.stop();
    }
  });
});
