import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, split, from, type ApolloLink, type NormalizedCacheObject } from '@apollo/client/core/index.js';
import { BatchHttpLink } from '@apollo/client/link/batch-http/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities/index.js';
import { parse } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import {
  CREATE_USER,
  UPDATE_USER,
  USER,
  USER_EVENTS,
  USER_FIELDS,
  USERS,
  type ClientUser,
  type MutationResult,
  type UserEvent,
  type UsersPage,
} from './documents.js';
import { freshUser, isGlobalUserId, otherClient, possibleTypes, succeeded, trackedWebSocket } from './support.js';

let server: TestServer;
beforeAll(async () => {
  // GraphQLWsLink recognises close events by comparing with the global WebSocket, which browsers
  // and Node 22 have and Node 20 lacks; without it every subscription error becomes a ReferenceError.
  if (!('WebSocket' in globalThis)) vi.stubGlobal('WebSocket', WebSocket);
  server = await startTestServer();
});
afterAll(async () => {
  vi.unstubAllGlobals();
  await server?.stop();
});

const USER_FRAGMENT = parse(USER_FIELDS);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every HTTP request body the client sent, parsed, so the suite can see batching and APQ on the wire. */
function recordingFetch() {
  const bodies: unknown[] = [];
  const recording: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string') bodies.push(JSON.parse(init.body));
    return fetch(input, init);
  };
  return { fetch: recording, bodies };
}

/**
 * The app's client: queries and mutations through the APQ link into
 * BatchHttpLink, subscriptions over graphql-ws (split on the operation type),
 * and `relayStylePagination` for `users`.
 */
function appClient(server: TestServer) {
  const { WebSocketImpl, sockets } = trackedWebSocket();
  const ws = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocketImpl, lazy: true, retryAttempts: 5, retryWait: () => new Promise((r) => setTimeout(r, 50)) });
  const recorded = recordingFetch();
  const http = from([createPersistedQueryLink({ sha256 }), new BatchHttpLink({ uri: server.url, fetch: recorded.fetch, batchInterval: 10, batchMax: 10 })]);
  const link: ApolloLink = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    http,
  );
  // name and version: Apollo sends them as apollographql-client-name/-version headers, as apps do.
  const client = new ApolloClient({ link, cache: newCache(), clientAwareness: { name: 'client-suite', version: '1.0.0' } });
  return { client, sockets, bodies: recorded.bodies, dispose: () => (client.stop(), ws.dispose()) };
}

function newCache() {
  return new InMemoryCache({ possibleTypes: possibleTypes(), typePolicies: { Query: { fields: { users: relayStylePagination() } } } });
}

const cachedUser = (client: ApolloClient<NormalizedCacheObject>, id: string) =>
  client.readFragment<ClientUser>({ id: client.cache.identify({ __typename: 'User', id }), fragment: USER_FRAGMENT, fragmentName: 'ClientUserFields' });

describe('Apollo Client 3', () => {
  const app = () => appClient(server);
  let main: ReturnType<typeof appClient>;
  const created: ClientUser[] = [];
  beforeAll(() => {
    main = app();
  });
  afterAll(() => main?.dispose());

  it('creates users through APQ + BatchHttpLink; each comes back with a global id', async () => {
    for (let i = 0; i < 7; i++) {
      const { data } = await main.client.mutate<{ createUser: MutationResult }>({ mutation: CREATE_USER, variables: { input: freshUser('apollo') } });
      created.push(succeeded(data?.createUser).user);
    }
    expect(created.every((user) => isGlobalUserId(user.id))).toBe(true);
    // Every request went out as a batch (an array body), and with a persisted-query hash.
    expect(main.bodies.length).toBeGreaterThan(0);
    for (const body of main.bodies) {
      expect(Array.isArray(body)).toBe(true);
      for (const operation of body as { extensions?: { persistedQuery?: { sha256Hash?: string } } }[]) {
        expect(operation.extensions?.persistedQuery?.sha256Hash).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('pages forward to the end and back with relayStylePagination and fetchMore', async () => {
    const forward = main.client.watchQuery<UsersPage>({ query: USERS, variables: { first: 3 } });
    const watching = forward.subscribe(() => {});
    try {
      let page = (await forward.result()).data.users;
      while (page.pageInfo.hasNextPage) {
        await forward.fetchMore({ variables: { after: page.pageInfo.endCursor } });
        page = forward.getCurrentResult().data.users;
      }
      expect(page.edges.map((edge) => edge.node.id)).toEqual(created.map((user) => user.id));
      expect(page.totalCount).toBe(created.length);
      expect(page.pageInfo.hasNextPage).toBe(false);
    } finally {
      watching.unsubscribe();
    }

    // Backwards, from the end, in a fresh cache: the merged list is the same, in the same order.
    const backApp = app();
    try {
      const backward = backApp.client.watchQuery<UsersPage>({ query: USERS, variables: { last: 3 } });
      const watchingBack = backward.subscribe(() => {});
      let page = (await backward.result()).data.users;
      while (page.pageInfo.hasPreviousPage) {
        await backward.fetchMore({ variables: { last: 3, before: page.pageInfo.startCursor } });
        page = backward.getCurrentResult().data.users;
      }
      watchingBack.unsubscribe();
      expect(page.edges.map((edge) => edge.node.id)).toEqual(created.map((user) => user.id));
      expect(page.pageInfo.hasPreviousPage).toBe(false);
    } finally {
      backApp.dispose();
    }
  });

  it('an update shows in the normalised cache: the entity and the paged list', async () => {
    const target = created[2]!;
    const { data } = await main.client.mutate<{ updateUser: MutationResult }>({
      mutation: UPDATE_USER,
      variables: { input: { id: target.id, username: 'apollo_renamed', expectedVersion: target.version } },
    });
    expect(succeeded(data?.updateUser).user.version).toBe(2);
    expect(cachedUser(main.client, target.id)).toMatchObject({ id: target.id, username: 'apollo_renamed', version: 2 });
    const list = main.client.readQuery<UsersPage>({ query: USERS, variables: { first: 3 } });
    expect(list?.users.edges.find((edge) => edge.node.id === target.id)?.node.username).toBe('apollo_renamed');
  });

  it('a subscription event updates the cached user; a replay and a reconnect never move it backwards', async () => {
    const target = created[4]!;
    const versionsSeen: number[] = [];
    const events: UserEvent[] = [];
    let failure: unknown;
    // From the start of the log: the replay carries old events, whose `user` is the current state.
    const subscription = main.client.subscribe<{ userEvents: UserEvent }>({ query: USER_EVENTS, variables: { after: '0', userId: target.id } }).subscribe({
      next: (result) => {
        if (result.data) events.push(result.data.userEvents);
        const cached = cachedUser(main.client, target.id);
        if (cached) versionsSeen.push(cached.version);
      },
      error: (error) => void (failure = error),
    });
    const progress = () => `${events.length} events, error ${String(failure)}`;
    try {
      await waitUntil(() => events.length >= 1 || failure !== undefined, `the replayed creation (${progress()})`);
      expect(failure).toBeUndefined();
      expect(events[0]).toMatchObject({ __typename: 'UserCreated', userId: target.id, version: 1, state: { version: 1 } });

      // Someone else renames the user; the event alone brings the cache up to date.
      await otherClient(server, UPDATE_USER, { input: { id: target.id, username: 'apollo_live' } });
      await waitUntil(() => events.length >= 2 || failure !== undefined, `the live update (${progress()})`);
      expect(cachedUser(main.client, target.id)).toMatchObject({ username: 'apollo_live', version: 2 });

      // Drop the socket: graphql-ws reconnects and resubscribes with the same `after`, so the log is replayed.
      const socketsBefore = main.sockets.length;
      main.sockets.at(-1)?.terminate();
      await waitUntil(() => main.sockets.length > socketsBefore, 'a reconnect');
      await otherClient(server, UPDATE_USER, { input: { id: target.id, username: 'apollo_after_drop' } });
      await waitUntil(() => events.some((e) => e.version === 3) || failure !== undefined, `the update after the reconnect (${progress()})`);
      expect(failure).toBeUndefined();
      expect(cachedUser(main.client, target.id)).toMatchObject({ username: 'apollo_after_drop', version: 3 });
      // Replayed events (versions 1 and 2 again) left the cache where it was.
      expect(versionsSeen).toEqual([...versionsSeen].sort((a, b) => a - b));
      expect(events.map((e) => e.state.version)).toContain(1);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('a second app sends only the hash of a query the server has seen (APQ)', async () => {
    const first = app();
    const second = app();
    try {
      const id = created[0]!.id;
      await first.client.query({ query: USER, variables: { id } });
      const { data } = await second.client.query<{ user: ClientUser }>({ query: USER, variables: { id } });
      expect(data.user.id).toBe(id);
      const sent = second.bodies.flat() as { query?: string; extensions?: { persistedQuery?: unknown } }[];
      expect(sent).toHaveLength(1);
      expect(sent[0]?.query).toBeUndefined();
      expect(sent[0]?.extensions?.persistedQuery).toBeDefined();
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  it('BatchHttpLink sends concurrent queries as one request', async () => {
    const batching = app();
    try {
      const ids = created.slice(0, 3).map((user) => user.id);
      const results = await Promise.all(ids.map((id) => batching.client.query<{ user: ClientUser }>({ query: USER, variables: { id } })));
      expect(results.map((result) => result.data.user.id)).toEqual(ids);
      const batches = batching.bodies.filter((body) => Array.isArray(body) && body.length === ids.length);
      expect(batches.length, JSON.stringify(batching.bodies)).toBeGreaterThanOrEqual(1);
    } finally {
      batching.dispose();
    }
  });

  it('a multipart subscription over HttpLink alone updates the cache', async () => {
    const target = created[5]!;
    const client = new ApolloClient({ link: new HttpLink({ uri: server.url }), cache: newCache() });
    const events: UserEvent[] = [];
    let failure: unknown;
    const subscription = client
      .subscribe<{ userEvents: UserEvent }>({ query: USER_EVENTS, variables: { after: '0', userId: target.id } })
      .subscribe({ next: (result) => void (result.data && events.push(result.data.userEvents)), error: (error) => void (failure = error) });
    try {
      await waitUntil(() => events.length >= 1 || failure !== undefined, 'the replayed creation');
      expect(failure).toBeUndefined();
      await otherClient(server, UPDATE_USER, { input: { id: target.id, username: 'apollo_multipart' } });
      await waitUntil(() => events.length >= 2 || failure !== undefined, 'the live update');
      expect(failure).toBeUndefined();
      expect(events.map((e) => [e.__typename, e.version])).toEqual([
        ['UserCreated', 1],
        ['UserUpdated', 2],
      ]);
      expect(cachedUser(client, target.id)).toMatchObject({ username: 'apollo_multipart', version: 2 });
    } finally {
      subscription.unsubscribe();
      client.stop();
    }
  });
});
