/**
 * Subscriptions over HTTP multipart (Apollo's multipart subscription
 * protocol, what Apollo Client's HttpLink speaks for a subscription) against
 * the real server, read with fetch the way Apollo Client parses the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { scrape } from '../support/metrics.js';
import { APOLLO_SUBSCRIPTION_ACCEPT, openMultipartSubscription } from '../support/multipart.js';
import { waitUntil } from '../support/wait.js';

const USER_EVENTS = 'subscription Events { userEvents { __typename userId position ... on UserCreated { username } } }';
const CREATE_USER = 'mutation Create($input: CreateUserInput!) { createUser(input: $input) { __typename } }';

const createUser = (url: string, id: string) => gql(url, CREATE_USER, { input: { id, email: `${id}@example.com`, username: id } });
const payloadFor = (userId: string) => (part: unknown) =>
  ((part as { payload?: { data?: { userEvents?: { userId?: string } } } }).payload?.data?.userEvents?.userId ?? null) === userId;

describe('subscriptions over HTTP multipart', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const active = async () => (await scrape(server.url)).value('cqrs_subscriptions_active', { transport: 'multipart' });

  it('streams userEvents as Apollo payload parts, counted as a multipart subscription until the client aborts', async () => {
    expect(await active()).toBe(0);
    const stream = await openMultipartSubscription(server.url, { query: USER_EVENTS });
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    await waitUntil(async () => (await active()) === 1, 'the subscription to be counted');

    expect((await createUser(server.url, 'multipart_1')).body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });
    await stream.waitFor(() => stream.parts.some(payloadFor('User:multipart_1')), 'the UserCreated event');
    const [event] = stream.payloads();
    expect(event).toEqual({
      payload: { data: { userEvents: { __typename: 'UserCreated', userId: 'User:multipart_1', username: 'multipart_1', position: expect.any(String) } } },
    });

    await createUser(server.url, 'multipart_2');
    await stream.waitFor(() => stream.parts.some(payloadFor('User:multipart_2')), 'the second event');
    expect(stream.payloads()).toHaveLength(2);

    stream.abort();
    await stream.ended();
    await waitUntil(async () => (await active()) === 0, 'the aborted subscription to leave the gauge');
    // The server is unharmed and still serves.
    expect((await createUser(server.url, 'multipart_3')).body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });
  });

  it('accepts the Accept header as Apollo documents it too (quoted spec, no boundary)', async () => {
    const stream = await openMultipartSubscription(server.url, { query: 'subscription { userEvents(after: "0") { userId } }' }, 'multipart/mixed;subscriptionSpec="1.0", application/json');
    await stream.waitFor(() => stream.payloads().length >= 1, 'the replayed events');
    expect(stream.payloads()[0]).toEqual({ payload: { data: { userEvents: { userId: 'User:multipart_1' } } } });
    stream.abort();
    await stream.ended();
  });

  it('answers a subscription that cannot start with a JSON error, not a stream, a 406 or a 500', async () => {
    for (const query of ['subscription { nope }', 'subscription { userEvents(after: "not-a-position") { userId } }']) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: APOLLO_SUBSCRIPTION_ACCEPT },
        body: JSON.stringify({ query }),
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.status).toBeLessThan(500);
      const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      expect(body.errors?.length, query).toBeGreaterThan(0);
      expect(body.errors?.[0]?.message).not.toMatch(/unexpected/i);
    }
    expect(await active()).toBe(0);
  });
});

describe('a subscription over HTTP in no format the client accepts', () => {
  it('is answered 406 and ended at once, not left running', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: USER_EVENTS }),
      });
      expect(response.status).toBe(406);
      // Never delivered, so never counted (test/observability/subscription-lifecycle.e2e.test.ts walks every ending).
      const gauges = (await scrape(server.url)).select('cqrs_subscriptions_active');
      expect(gauges.map(({ labels, value }) => [labels['transport'], value])).toEqual([['ws', 0], ['sse', 0], ['multipart', 0]]);
    } finally {
      await server.stop();
    }
  });
});

describe('multipart subscriptions at shutdown', () => {
  it('end with the closing delimiter when the server shuts down', async () => {
    const server = await startTestServer();
    try {
      const stream = await openMultipartSubscription(server.url, { query: USER_EVENTS });
      await createUser(server.url, 'before_shutdown');
      await stream.waitFor(() => stream.payloads().length === 1, 'the event');
      await server.close();
      await stream.ended();
      expect(stream.closed()).toBe(true);
      expect(stream.payloads()).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });
});
