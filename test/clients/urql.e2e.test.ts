import { Client, fetchExchange, subscriptionExchange, type OperationResult } from '@urql/core';
import { cacheExchange, type Cache } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { introspectionFromSchema, isObjectType } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { CREATE_USER, UPDATE_USER, USER, USER_EVENTS, USERS, type ClientUser, type MutationResult, type UserEvent, type UsersPage } from './documents.js';
import { clientSchema, freshUser, isGlobalUserId, otherClient, succeeded, trackedWebSocket } from './support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Every HTTP request the client sent: method and URL. */
type Sent = { method: string; url: string };

/**
 * The app's client: graphcache with the schema from the contract and
 * `relayPagination` for `users`, subscriptions over graphql-ws, and the
 * fetch exchange with urql's defaults (queries as GET within the URL limit).
 */
function appClient(server: TestServer) {
  const schema = clientSchema();
  const sent: Sent[] = [];
  // The cache as updaters see it; `cache.resolve` reads the normalised store.
  const cacheReads: { userId: string; version: unknown; username: unknown }[] = [];
  const { WebSocketImpl, sockets } = trackedWebSocket();
  const ws = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocketImpl, lazy: true, retryAttempts: 5, retryWait: () => new Promise((r) => setTimeout(r, 50)) });
  // Types without an `id` are embedded in their parent rather than normalised.
  const keys = Object.fromEntries(
    Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && !type.name.startsWith('__') && !('id' in type.getFields()))
      .map((type) => [type.name, () => null]),
  );
  const client = new Client({
    url: server.url,
    fetch: async (input, init) => {
      sent.push({ method: init?.method ?? 'GET', url: String(input) });
      return fetch(input, init);
    },
    exchanges: [
      cacheExchange({
        schema: introspectionFromSchema(schema),
        keys,
        resolvers: {
          Query: {
            users: relayPagination(),
            // A cache redirect: `user(id:)` is the User entity with that id, even before any `user` query ran.
            user: (_parent, args) => ({ __typename: 'User', id: args['id'] as string }),
          },
        },
        updates: {
          Subscription: {
            userEvents: (result: { userEvents?: UserEvent }, _args: unknown, cache: Cache) => {
              const user = result.userEvents?.user;
              if (!user) return;
              const entity = { __typename: 'User', id: user.id };
              cacheReads.push({ userId: user.id, version: cache.resolve(entity, 'version'), username: cache.resolve(entity, 'username') });
            },
          },
        },
      }),
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ query: request.query ?? '', variables: request.variables ?? {} }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
  return { client, sent, cacheReads, sockets, dispose: () => ws.dispose() };
}

function dataOf<T>(result: OperationResult<T>): T {
  if (result.error || result.data == null) throw new Error(`urql: ${result.error?.message ?? 'no data'}`);
  return result.data;
}

const cachedUser = (client: Client, id: string) => client.readQuery<{ user: ClientUser | null }>(USER, { id })?.data?.user ?? null;

describe('urql 6 with graphcache', () => {
  let main: ReturnType<typeof appClient>;
  const created: ClientUser[] = [];
  beforeAll(() => {
    main = appClient(server);
  });
  afterAll(() => main?.dispose());

  it('creates users; each comes back with a global id', async () => {
    for (let i = 0; i < 7; i++) {
      const data = dataOf(await main.client.mutation<{ createUser: MutationResult }>(CREATE_USER, { input: freshUser('urql') }).toPromise());
      created.push(succeeded(data.createUser).user);
    }
    expect(created.every((user) => isGlobalUserId(user.id))).toBe(true);
  });

  it('pages forward to the end and back with relayPagination, its queries sent as GET', async () => {
    let page = dataOf(await main.client.query<UsersPage>(USERS, { first: 3 }).toPromise()).users;
    while (page.pageInfo.hasNextPage) {
      await main.client.query<UsersPage>(USERS, { first: 3, after: page.pageInfo.endCursor }).toPromise();
      // relayPagination serves every page of `users(first: 3, …)` merged into one list.
      page = dataOf(await main.client.query<UsersPage>(USERS, { first: 3 }, { requestPolicy: 'cache-only' }).toPromise()).users;
    }
    expect(page.edges.map((edge) => edge.node.id)).toEqual(created.map((user) => user.id));
    expect(page.totalCount).toBe(created.length);
    const queries = main.sent.filter((request) => request.url.includes('ClientUsers'));
    expect(queries.length).toBeGreaterThanOrEqual(3);
    expect(queries.every((request) => request.method === 'GET')).toBe(true);

    // Backwards, from the end, in a fresh cache.
    const back = appClient(server);
    try {
      let last = dataOf(await back.client.query<UsersPage>(USERS, { last: 3 }).toPromise()).users;
      while (last.pageInfo.hasPreviousPage) {
        await back.client.query<UsersPage>(USERS, { last: 3, before: last.pageInfo.startCursor }).toPromise();
        last = dataOf(await back.client.query<UsersPage>(USERS, { last: 3 }, { requestPolicy: 'cache-only' }).toPromise()).users;
      }
      expect(last.edges.map((edge) => edge.node.id)).toEqual(created.map((user) => user.id));
    } finally {
      back.dispose();
    }
  });

  it('an update shows in the normalised cache: the entity and the paged list', async () => {
    const target = created[2]!;
    const data = dataOf(
      await main.client
        .mutation<{ updateUser: MutationResult }>(UPDATE_USER, { input: { id: target.id, username: 'urql_renamed', expectedVersion: target.version } })
        .toPromise(),
    );
    expect(succeeded(data.updateUser).user.version).toBe(2);
    expect(cachedUser(main.client, target.id)).toMatchObject({ id: target.id, username: 'urql_renamed', version: 2 });
    const list = main.client.readQuery<UsersPage>(USERS, { first: 3 })?.data;
    expect(list?.users.edges.find((edge) => edge.node.id === target.id)?.node.username).toBe('urql_renamed');
  });

  it('a subscription event updates the cached user; a replay and a reconnect never move it backwards', async () => {
    const target = created[4]!;
    const events: UserEvent[] = [];
    let failure: unknown;
    const subscription = main.client.subscription<{ userEvents: UserEvent }>(USER_EVENTS, { after: '0', userId: target.id }).subscribe((result) => {
      if (result.error) failure = result.error;
      if (result.data) events.push(result.data.userEvents);
    });
    const progress = () => `${events.length} events, error ${String(failure)}`;
    const reads = () => main.cacheReads.filter((read) => read.userId === target.id);
    try {
      await waitUntil(() => events.length >= 1 || failure !== undefined, `the replayed creation (${progress()})`);
      expect(failure).toBeUndefined();
      expect(events[0]).toMatchObject({ __typename: 'UserCreated', userId: target.id, version: 1 });

      await otherClient(server, UPDATE_USER, { input: { id: target.id, username: 'urql_live' } });
      await waitUntil(() => events.length >= 2 || failure !== undefined, `the live update (${progress()})`);
      expect(reads().at(-1)).toMatchObject({ username: 'urql_live', version: 2 });
      expect(cachedUser(main.client, target.id)).toMatchObject({ username: 'urql_live', version: 2 });

      // Drop the socket: graphql-ws reconnects and resubscribes with the same `after`, replaying the log.
      const socketsBefore = main.sockets.length;
      main.sockets.at(-1)?.terminate();
      await waitUntil(() => main.sockets.length > socketsBefore, 'a reconnect');
      await otherClient(server, UPDATE_USER, { input: { id: target.id, username: 'urql_after_drop' } });
      await waitUntil(() => events.some((e) => e.version === 3) || failure !== undefined, `the update after the reconnect (${progress()})`);
      expect(failure).toBeUndefined();
      expect(cachedUser(main.client, target.id)).toMatchObject({ username: 'urql_after_drop', version: 3 });
      const versions = reads().map((read) => read.version as number);
      expect(versions.length).toBeGreaterThanOrEqual(3);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    } finally {
      subscription.unsubscribe();
    }
  });
});
