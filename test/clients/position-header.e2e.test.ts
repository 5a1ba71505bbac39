/**
 * The README's position recipe with the real client libraries: after its own
 * write, a client's next read waits for the server's projections (and cache)
 * to pass the write, even when the projection lags behind the mutation's
 * read-your-writes wait. A plain request meanwhile still gets the old answer,
 * which is what shows the header is what made the difference.
 */
import { ApolloClient, HttpLink, InMemoryCache, from } from '@apollo/client/core/index.js';
import { Client, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { CREATE_USER, UPDATE_USER, USER, type ClientUser } from './documents.js';
import { positionExchange, positionLink } from './position-links.js';

type UserAnswer = { user: ClientUser | null };

/** Every request's headers, to see the position header on the wire. */
function recordingFetch() {
  const sent: Headers[] = [];
  const recording: typeof fetch = (input, init) => {
    sent.push(new Headers(init?.headers));
    return fetch(input, init);
  };
  return { fetch: recording, sent };
}

let server: TestServer;
beforeAll(async () => {
  // Long enough for the test to restart the projection while a read waits; the mutation waits this long once.
  server = await startTestServer({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '1500' } });
});
afterAll(() => server?.stop());

type Clients = Readonly<{
  create: (id: string) => Promise<void>;
  rename: (id: string, username: string) => Promise<void>;
  read: (id: string) => Promise<ClientUser | null>;
  sent: Headers[];
}>;

function apollo(): Clients {
  const recorded = recordingFetch();
  const client = new ApolloClient({ link: from([positionLink(), new HttpLink({ uri: server.url, fetch: recorded.fetch })]), cache: new InMemoryCache() });
  return {
    create: async (id) => void (await client.mutate({ mutation: CREATE_USER, variables: { input: { id, username: `${id}_a`, email: `${id}@example.com` } } })),
    rename: async (id, username) => void (await client.mutate({ mutation: UPDATE_USER, variables: { input: { id, username } } })),
    read: async (id) => (await client.query<UserAnswer>({ query: USER, variables: { id }, fetchPolicy: 'network-only' })).data.user,
    sent: recorded.sent,
  };
}

function urql(): Clients {
  const recorded = recordingFetch();
  const client = new Client({ url: server.url, exchanges: [positionExchange(), fetchExchange], fetch: recorded.fetch, preferGetMethod: false });
  return {
    create: async (id) => void (await client.mutation(CREATE_USER, { input: { id, username: `${id}_a`, email: `${id}@example.com` } }).toPromise()),
    rename: async (id, username) => void (await client.mutation(UPDATE_USER, { input: { id, username } }).toPromise()),
    read: async (id) => ((await client.query<UserAnswer>(USER, { id }, { requestPolicy: 'network-only' }).toPromise()).data?.user ?? null),
    sent: recorded.sent,
  };
}

describe.each([
  ['Apollo Client', apollo],
  ['urql', urql],
])('%s with the position recipe', (_name, clientOf) => {
  it('reads its own write although the projection lagged past the mutation’s wait', async () => {
    const clients = clientOf();
    const id = `pos-${_name.length}-${Date.now()}`;
    await clients.create(id);
    expect((await clients.read(id))?.username).toBe(`${id}_a`); // cached on the server now

    await server.system.projector.stop();
    await clients.rename(id, `${id}_b`); // answered from the event stream after the wait

    const plain = await gql<UserAnswer>(server.url, 'query ($id: ID!) { user(id: $id) { username } }', { id });
    expect(plain.body.data?.user?.username).toBe(`${id}_a`);

    const requests = clients.sent.length;
    const read = clients.read(id);
    await waitUntil(() => clients.sent.length > requests, 'the read to be sent');
    await server.system.projector.start();
    expect((await read)?.username).toBe(`${id}_b`);
    expect(clients.sent.at(-1)?.get('x-min-position')).toMatch(/^[a-z]+:/);
  });
});
