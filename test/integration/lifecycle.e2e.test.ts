import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  UpdateUserDocument,
  UserDocument,
  UserEventsDocument,
  UsersDocument,
  type UserEventsSubscription,
} from '../gql/graphql.js';
import { execute, executeOk, expectType } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient, type Subscription, type SubscriptionClient } from '../support/subscriptions.js';
import { sqliteSequence } from '../support/positions.js';
import { waitUntil } from '../support/wait.js';

const servers: TestServer[] = [];
const clients: SubscriptionClient[] = [];
const dataDirs: string[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir?: string) {
  const server = await startTestServer(dataDir ? { dataDir } : {});
  servers.push(server);
  return server;
}
function newDataDir() {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-lifecycle-'));
  dataDirs.push(dir);
  return dir;
}
function client(transport: 'graphql-ws' | 'graphql-sse', server: TestServer) {
  const opened = openClient(transport, server);
  clients.push(opened);
  return opened;
}

let counter = 0;
const fresh = (prefix: string) => {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
};
const createUser = async (url: string, input = fresh('life')) =>
  expectType((await executeOk(url, CreateUserDocument, { input })).createUser, 'CreateUserSuccess');
const rename = async (url: string, id: string) =>
  expectType((await executeOk(url, UpdateUserDocument, { input: { id, username: `renamed_${++counter}` } })).updateUser, 'UpdateUserSuccess');
const versions = (subscription: Subscription<UserEventsSubscription>) => subscription.data().map((d) => d.userEvents.version);

type Health = {
  status: string;
  projections: { name: string; state: string; leader: boolean; position: string; lag: number; haltedAt: string | null; lastError: string | null }[];
};
async function health(server: TestServer) {
  const response = await fetch(new URL('/health', server.url));
  return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as Health };
}

describe('/health', () => {
  it('reports ready with the users projections, their state, checkpoint, lag and last error', async () => {
    const server = await start();
    const empty = await health(server);
    expect(empty.status).toBe(200);
    expect(empty.contentType).toMatch(/^application\/json/);
    expect(empty.body).toEqual({
      status: 'ready',
      projections: ['users', 'user-search'].map((name) => ({ name, state: 'running', leader: true, position: '0', lag: 0, haltedAt: null, lastError: null, version: 1, build: null })),
    });

    const created = await createUser(server.url);
    const updated = await rename(server.url, created.user.id);
    // Read-your-writes: the projection has passed the write when the mutation answers.
    const after = await health(server);
    expect(after.status).toBe(200);
    expect(after.body).toEqual({
      status: 'ready',
      projections: ['users', 'user-search'].map((name) => ({ name, state: 'running', leader: true, position: updated.position, lag: 0, haltedAt: null, lastError: null, version: 1, build: null })),
    });
  });
});

describe('graceful shutdown', () => {
  it('completes live subscriptions on both transports, resolves close(), and keeps acknowledged writes', { timeout: 60_000 }, async () => {
    const dataDir = newDataDir();
    const server = await start(dataDir);
    const created = await createUser(server.url);
    const id = created.user.id;

    const ws = client('graphql-ws', server);
    const sse = client('graphql-sse', server);
    const overWs = ws.subscribe(UserEventsDocument, { userId: id, after: created.position });
    const overSse = sse.subscribe(UserEventsDocument, { userId: id, after: created.position });
    const acknowledged = await rename(server.url, id);
    await overWs.waitForResults(1);
    await overSse.waitForResults(1);
    expect(versions(overWs)).toEqual([2]);
    expect(versions(overSse)).toEqual([2]);

    await server.close();

    await overSse.waitForEnd();
    expect(overSse.error()).toBeUndefined();
    expect(overSse.completed()).toBe(true);
    await overWs.waitForEnd();
    const wsError = overWs.error() as { code?: number } | undefined;
    expect(overWs.completed() || wsError?.code === 1001, `graphql-ws ended with ${JSON.stringify(wsError)}`).toBe(true);
    await waitUntil(() => ws.closeEvents.length > 0, 'the websocket to close');
    expect([1000, 1001]).toContain(ws.closeEvents[0]!.code);
    expect(versions(overWs)).toEqual([2]);

    const reopened = await start(dataDir);
    const { user } = await executeOk(reopened.url, UserDocument, { id });
    expect(user).toEqual(acknowledged.user);
  });

  it('in-flight mutations finish when close() starts, and every acknowledged one is in the store afterwards', { timeout: 60_000 }, async () => {
    const dataDir = newDataDir();
    const server = await start(dataDir);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createUser(server.url)).user.id);

    // close() starts as soon as the first of these mutations has appended, so the
    // others are in every stage: queued on a stream lock, being parsed, not yet connected.
    const closed = new Promise<void>((resolve, reject) => {
      const stopListening = server.system.store.onAppended(() => {
        stopListening();
        setImmediate(() => server.close().then(resolve, reject));
      });
    });
    const inFlight = Array.from({ length: 100 }, (_, i) =>
      execute(server.url, UpdateUserDocument, { input: { id: ids[i % ids.length]!, username: `inflight_${i}` } }).then(
        (response) => ({ ok: true as const, response }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    const outcomes = await Promise.all(inFlight);
    await closed;

    // What reached the server was answered properly; the rest was refused at the connection level.
    for (const outcome of outcomes) {
      if (!outcome.ok) continue;
      expect(outcome.response.status).toBe(200);
      expect(outcome.response.errors, JSON.stringify(outcome.response.errors)).toBeUndefined();
      expect(outcome.response.data?.updateUser.__typename).toBe('UpdateUserSuccess');
    }
    const acknowledged = outcomes.flatMap((o) =>
      o.ok && o.response.data?.updateUser.__typename === 'UpdateUserSuccess' ? [o.response.data.updateUser] : [],
    );
    expect(acknowledged.length).toBeGreaterThan(0);

    const reopened = await start(dataDir);
    const replay = client('graphql-ws', reopened).subscribe(UserEventsDocument, { after: '0' });
    const { users } = await executeOk(reopened.url, UsersDocument, { first: 100 });
    const total = users.edges.reduce((sum, e) => sum + e.node.version, 0);
    await replay.waitForResults(total);
    const stored = replay.data().map((d) => d.userEvents);
    for (const ack of acknowledged) {
      expect(
        stored.find((e) => e.position === ack.position),
        `acknowledged ${ack.position} missing after restart`,
      ).toMatchObject({ __typename: 'UserUpdated', userId: ack.user.id, version: ack.user.version, changedUsername: ack.user.username });
    }
    for (const { node } of users.edges) {
      const own = stored.filter((e) => e.userId === node.id).map((e) => e.version);
      expect(own).toEqual(Array.from({ length: node.version }, (_, i) => i + 1));
    }
  });
});

describe('restart', () => {
  it('keeps users, the read model and positions across a restart on the same data directory', { timeout: 60_000 }, async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir);
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await createUser(first.url));
    const updated = await rename(first.url, users[2]!.user.id);
    const before = await executeOk(first.url, UsersDocument, { first: 100 });
    const head = (await health(first)).body.projections[0]!.position;
    expect(head).toBe(updated.position);
    await first.close();

    const second = await start(dataDir);
    expect((await health(second)).body).toEqual({
      status: 'ready',
      projections: ['users', 'user-search'].map((name) => ({ name, state: 'running', leader: true, position: head, lag: 0, haltedAt: null, lastError: null, version: 1, build: null })),
    });
    expect(await executeOk(second.url, UsersDocument, { first: 100 })).toEqual(before);
    expect(before.users.totalCount).toBe(5);
    expect((await executeOk(second.url, UserDocument, { id: users[2]!.user.id })).user).toEqual(updated.user);

    // The log continues where it stopped, and uniqueness and versions survived.
    const next = await rename(second.url, users[2]!.user.id);
    expect(sqliteSequence(next.position)).toBe(sqliteSequence(head) + 1);
    expect(next.user.version).toBe(3);
    const { createUser: again } = await executeOk(second.url, CreateUserDocument, {
      input: { username: 'someone_else', email: users[0]!.user.email!.toUpperCase() },
    });
    expect(again.__typename).toBe('EmailTaken');
  });
});
