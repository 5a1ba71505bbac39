/**
 * `cqrs_subscriptions_active` counts a subscription from the moment a
 * transport starts delivering it until it ends, and returns to zero after
 * every way a subscription ends, on every transport: the server completing it
 * (its token expired), the client leaving, the source failing, a refusal
 * (a 406, a bad `after`), and shutdown. Many subscriptions on one server
 * print no MaxListenersExceededWarning.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { scrape } from '../support/metrics.js';
import { openMultipartSubscription, type MultipartStream } from '../support/multipart.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const TRANSPORTS = ['ws', 'sse', 'multipart'] as const;
type Transport = (typeof TRANSPORTS)[number];
const EVENTS_FROM_START = 'subscription { userEvents(after: "0") { __typename position } }';

/** The gauge by transport, from this server's registry: the same numbers /metrics serves, readable after shutdown too. */
async function gauge(server: TestServer): Promise<Record<string, number>> {
  const { values } = await server.metrics!.subscriptions.get();
  return Object.fromEntries(values.map((sample) => [String(sample.labels.transport), sample.value]));
}
const ZERO = { ws: 0, sse: 0, multipart: 0 };
const ONE_EACH = { ws: 1, sse: 1, multipart: 1 };

/** One live subscription as a real client holds it. */
type Live = Readonly<{
  transport: Transport;
  /** At least one event arrived. */
  delivering: () => boolean;
  /** The stream ended as the server ended it (complete or error), not by the client. */
  ended: () => boolean;
  /** The client goes away without a word: socket dropped, response aborted. */
  vanish: () => void;
  /** The client says it is done (graphql-ws `complete`); over HTTP, the same as vanishing. */
  unsubscribe: () => void;
}>;

async function subscribe(server: TestServer, transport: Transport, options: { authorization?: string; query?: string } = {}): Promise<Live> {
  const query = options.query ?? EVENTS_FROM_START;
  const headers: Record<string, string> = options.authorization ? { authorization: options.authorization } : {};
  if (transport === 'ws') {
    let events = 0;
    let ended = false;
    const client: Client = createWsClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      ...(options.authorization ? { connectionParams: headers } : {}),
    });
    const stop = client.subscribe(
      { query },
      { next: () => void (events += 1), error: () => void (ended = true), complete: () => void (ended = true) },
    );
    return { transport, delivering: () => events > 0, ended: () => ended, vanish: () => client.terminate(), unsubscribe: stop };
  }
  if (transport === 'sse') {
    const aborted = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query }),
      signal: aborted.signal,
    });
    expect(response.status).toBe(200);
    let text = '';
    let ended = false;
    void (async () => {
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
      ended = true;
    })().catch(() => {
      if (!aborted.signal.aborted) ended = true;
    });
    return { transport, delivering: () => text.includes('event: next'), ended: () => ended, vanish: () => aborted.abort(), unsubscribe: () => aborted.abort() };
  }
  const stream: MultipartStream = await openMultipartSubscription(server.url, { query }, undefined, (url, init) =>
    fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } }),
  );
  let ended = false;
  void stream.ended().then(() => void (ended = true));
  return { transport, delivering: () => stream.payloads().length > 0, ended: () => ended, vanish: stream.abort, unsubscribe: stream.abort };
}

async function subscribeOnEach(server: TestServer, options: { authorization?: string } = {}): Promise<Live[]> {
  const live = await Promise.all(TRANSPORTS.map((transport) => subscribe(server, transport, options)));
  await waitUntil(() => live.every((subscription) => subscription.delivering()), 'an event on every transport');
  expect(await gauge(server)).toEqual(ONE_EACH);
  return live;
}

const createUser = async (server: TestServer, name: string, authorization?: string) => {
  const { body } = await gql(server.url, `mutation { createUser(input: { id: "${name}", username: "${name}", email: "${name}@example.com" }) { __typename } }`, undefined, authorization ? { authorization } : {});
  expect(body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });
};

describe('the subscriptions gauge returns to zero after every way a subscription ends', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await createUser(server, 'lifecycle');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts at zero on every transport, and counts one subscription per transport while it delivers', async () => {
    expect(await gauge(server)).toEqual(ZERO);
    const live = await subscribeOnEach(server);
    for (const subscription of live) subscription.vanish();
    await waitUntil(async () => JSON.stringify(await gauge(server)) === JSON.stringify(ZERO), 'the gauge back at zero');
  });

  it.each(['unsubscribe', 'vanish'] as const)('the client leaves (%s)', async (leave) => {
    const live = await subscribeOnEach(server);
    for (const subscription of live) subscription[leave]();
    await waitUntil(async () => JSON.stringify(await gauge(server)) === JSON.stringify(ZERO), 'the gauge back at zero');
  });

  it('refusals are never counted: 303 subscriptions answered 406, and a bad `after` on each transport', async () => {
    for (let i = 0; i < 303; i++) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: EVENTS_FROM_START }),
      });
      expect(response.status).toBe(406);
      await response.arrayBuffer();
    }
    const refused = await Promise.all(TRANSPORTS.map((transport) => subscribe(server, transport, { query: 'subscription { userEvents(after: "nowhere") { position } }' }).catch((error: Error) => error.message)));
    // graphql-ws and SSE end the stream with the error; multipart answers plain JSON, which is no stream.
    expect(refused[2]).toMatch(/Not a multipart response: 200/);
    await waitUntil(() => (refused.slice(0, 2) as Live[]).every((subscription) => subscription.ended()), 'the refused ws and SSE subscriptions to end');
    expect(await gauge(server)).toEqual(ZERO);
    expect((await scrape(server.url)).select('cqrs_subscriptions_active').map((sample) => sample.labels['transport'])).toEqual(['ws', 'sse', 'multipart']);
  });
});

describe('the gauge after the server ends subscriptions', () => {
  it('the server completes them (the token expired)', async () => {
    const secret = 'lifecycle-test-secret-of-at-least-32-characters';
    const server = await startTestServer({ env: { AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
    try {
      const key = new TextEncoder().encode(secret);
      await createUser(server, 'expiring', bearer(await signToken(key, 'expiring')));
      const authorization = bearer(await signToken(key, 'expiring', { expiresIn: 4 }));
      const live = await subscribeOnEach(server, { authorization });
      await waitUntil(() => live.every((subscription) => subscription.ended()), 'every subscription to complete at the token’s expiry');
      expect(await gauge(server)).toEqual(ZERO);
    } finally {
      await server.stop();
    }
  });

  it('their source fails (the event store cannot be read)', async () => {
    const server = await startTestServer({ env: { PROJECTION_POLL_INTERVAL_MS: '20' } });
    try {
      await createUser(server, 'failing');
      const live = await subscribeOnEach(server);
      const events = new Database(join(server.dataDir, 'events.db'));
      try {
        events.exec('ALTER TABLE events RENAME TO events_elsewhere');
        await waitUntil(() => live.every((subscription) => subscription.ended()), 'every subscription to end with the read error');
        expect(await gauge(server)).toEqual(ZERO);
      } finally {
        events.exec('ALTER TABLE events_elsewhere RENAME TO events');
        events.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('the server shuts down', async () => {
    const server = await startTestServer();
    await createUser(server, 'shutdown');
    const live = await subscribeOnEach(server);
    await server.stop();
    await waitUntil(() => live.every((subscription) => subscription.ended()), 'every subscription to end at shutdown');
    expect(await gauge(server)).toEqual(ZERO);
  });
});

describe('many subscriptions on one server', () => {
  it('50 on each transport print no MaxListenersExceededWarning, live or at shutdown', async () => {
    const warnings: Error[] = [];
    const collect = (warning: Error) => void warnings.push(warning);
    process.on('warning', collect);
    const server = await startTestServer();
    try {
      await createUser(server, 'many');
      const live = await Promise.all(TRANSPORTS.flatMap((transport) => Array.from({ length: 50 }, () => subscribe(server, transport))));
      await waitUntil(() => live.every((subscription) => subscription.delivering()), 'an event on all 150 subscriptions');
      expect(await gauge(server)).toEqual({ ws: 50, sse: 50, multipart: 50 });
      await server.stop();
      await waitUntil(() => live.every((subscription) => subscription.ended()), 'every subscription to end at shutdown');
      expect(await gauge(server)).toEqual(ZERO);
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
    } finally {
      process.off('warning', collect);
      await server.stop();
    }
  });
});
