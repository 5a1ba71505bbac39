/**
 * Websocket subscriptions fanned out per cohort (src/server/subscription-fanout.ts):
 * each frame the server splices by hand (next, the RESUME_AFTER error) against
 * real graphql-ws clients and raw sockets, `complete` still sent by graphql-ws,
 * masking per viewer, the per-cohort counters in /metrics, and a subscriber
 * that stops reading.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { scrape } from '../support/metrics.js';
import { sqliteSequence } from '../support/positions.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';

const LIMIT = 64 * 1024;
const EVENTS = 'subscription ($after: String) { userEvents(after: $after) { __typename position version } }';
const VERSIONS = 'subscription ($after: String) { userEvents(after: $after) { position version occurredAt } }';
/** About 35 kB per event: a socket's buffers fill after a few hundred events instead of tens of thousands. */
const BULKY = `subscription ($after: String) { userEvents(after: $after) { position ${Array.from({ length: 1000 }, (_, i) => `a${i}: occurredAt`).join(' ')} } }`;

type UserEvent = { position: string; version?: number; email?: string | null };
type NextPayload = { data?: { userEvents: UserEvent }; errors?: { message: string; extensions?: Record<string, unknown> }[] };

let created = 0;
/** Appends `count` events (createUser), `batch` at a time; returns their positions in log order. */
async function appendEvents(server: TestServer, count: number, batch = 20, authorization?: string): Promise<string[]> {
  const positions: string[] = [];
  for (let done = 0; done < count; done += batch) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(batch, count - done) }, () => {
        const n = ++created;
        return gql<{ createUser: { position: string } }>(
          server.url,
          'mutation ($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { position } } }',
          { input: { username: `fan_${n}`, email: `fan.${n}@example.com` } },
          authorization ? { authorization } : {},
        );
      }),
    );
    positions.push(...answers.map(({ body }) => body.data!.createUser.position));
  }
  return positions.sort((a, b) => sqliteSequence(a) - sqliteSequence(b));
}

const counters = async (server: TestServer) => {
  const metrics = await scrape(server.url);
  return {
    executions: metrics.value('cqrs_subscription_executions_total') ?? NaN,
    serialisations: metrics.value('cqrs_subscription_serialisations_total') ?? NaN,
    messages: metrics.value('cqrs_subscription_messages_total') ?? NaN,
    cut: metrics.value('cqrs_subscriptions_cut_total') ?? NaN,
    backlog: metrics.value('cqrs_websocket_send_buffer_bytes_max') ?? NaN,
  };
};

/** A graphql-transport-ws client written by hand, to see frames as bytes and to stop reading at the TCP level. */
async function rawClient(server: TestServer, authorization?: string) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const frames: string[] = [];
  socket.on('message', (data) => frames.push(String(data)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', ...(authorization ? { payload: { authorization } } : {}) }));
  await waitUntil(() => frames.some((frame) => JSON.parse(frame).type === 'connection_ack'), 'connection_ack');
  const messages = () => frames.map((frame) => JSON.parse(frame) as { id?: string; type: string; payload?: unknown });
  return {
    socket,
    frames,
    messages,
    subscribe: (id: string, query: string, variables: Record<string, unknown>) =>
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    /** Positions of the `next` frames of `id`, in arrival order. */
    positions: (id: string) =>
      messages()
        .filter((message) => message.id === id && message.type === 'next')
        .map((message) => (message.payload as NextPayload).data!.userEvents.position),
  };
}

/** A real graphql-ws client whose socket can be paused (it then reads nothing, like a stalled browser tab). */
function pausableClient(server: TestServer) {
  const sockets: WebSocket[] = [];
  class RecordedWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const client = createClient({ url: server.wsUrl, webSocketImpl: RecordedWebSocket, retryAttempts: 0, lazy: false });
  return { client, pause: () => sockets.forEach((socket) => socket.pause()), resume: () => sockets.forEach((socket) => socket.resume()) };
}

function sink(client: Client, query: string, variables: Record<string, unknown>) {
  const results: NextPayload[] = [];
  let error: unknown;
  let completed = false;
  const dispose = client.subscribe(
    { query, variables },
    { next: (value) => void results.push(value as NextPayload), error: (e) => void (error = e), complete: () => void (completed = true) },
  );
  return {
    results,
    positions: () => results.map((result) => result.data!.userEvents.position),
    error: () => error,
    completed: () => completed,
    dispose,
  };
}

describe('websocket fan-out', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { SUBSCRIPTION_MAX_BUFFERED_BYTES: String(LIMIT), MAX_ALIASES: '2000', MAX_TOKENS: '20000', MAX_COST: '10000000' },
    });
  });
  afterAll(() => server.stop());

  it('splices each subscriber’s id into the shared next frame, escaped as JSON', async () => {
    const [start] = await appendEvents(server, 1);
    const raw = await rawClient(server);
    const id = 'quote " backslash \\ slash / é';
    raw.subscribe(id, EVENTS, { after: start });
    const client = openClient('graphql-ws', server);
    try {
      const sub = client.subscribe(parse(EVENTS), { after: start });
      const [position] = await appendEvents(server, 1);
      await waitUntil(() => raw.positions(id).length === 1 && sub.results.length === 1, 'both subscribers to get the event');
      const frame = raw.frames.find((text) => JSON.parse(text).type === 'next')!;
      const payload = { data: { userEvents: { __typename: 'UserCreated', position, version: 1 } } };
      expect(frame).toBe(`{"id":${JSON.stringify(id)},"type":"next","payload":${JSON.stringify(payload)}}`);
      expect(sub.results).toEqual([payload]);
    } finally {
      raw.socket.close();
      await client.dispose();
    }
  });

  it('executes and serialises once per event and cohort: 50 subscribers over 2 cohorts, 10 events → 20', async () => {
    const [start] = await appendEvents(server, 1);
    const clients = Array.from({ length: 5 }, () => createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 }));
    try {
      const subs = clients.flatMap((client, c) =>
        Array.from({ length: 10 }, (_, i) => sink(client, (c * 10 + i) % 2 === 0 ? EVENTS : VERSIONS, { after: start })),
      );
      // Subscribed (and so in their cohorts) once an event reaches all of them.
      await appendEvents(server, 1);
      await waitUntil(() => subs.every((sub) => sub.results.length === 1), 'every subscriber to get the first event');
      const before = await counters(server);
      const positions = await appendEvents(server, 10, 1);
      await waitUntil(() => subs.every((sub) => sub.results.length === 11), 'every subscriber to get 10 more events');
      const after = await counters(server);
      expect(after.executions - before.executions).toBe(20);
      expect(after.serialisations - before.serialisations).toBe(20);
      expect(after.messages - before.messages).toBe(500);
      for (const sub of subs) expect(sub.positions().slice(1)).toEqual(positions);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  // Where the second subscriber starts: with the live one's own `after` (same variables, five events behind),
  // or with an `after` of its own, as a subscriber cut off a moment ago resumes. Either way a cohort of its own
  // until it catches up, then one with the live cohort: `after` only says where a subscriber starts.
  it.each([
    ['a replaying cohort, same variables', 0],
    ['a subscriber resuming from its own `after`', 2],
  ] as const)('merges %s into the live cohort once it catches up: no gap, no duplicate, then one execution', async (_, skipped) => {
    const [start] = await appendEvents(server, 1);
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const live = sink(client, EVENTS, { after: start });
      const first = await appendEvents(server, 5, 1);
      await waitUntil(() => live.results.length === 5, 'the live subscriber to get five events');
      const behind = sink(client, EVENTS, { after: skipped === 0 ? start : first[skipped - 1]! });
      await waitUntil(() => behind.results.length === 5 - skipped, 'the catch-up');
      const before = await counters(server);
      const next = await appendEvents(server, 3, 1);
      await waitUntil(() => live.results.length === 8 && behind.results.length === 8 - skipped, 'both to get three more');
      expect(live.positions()).toEqual([...first, ...next]);
      expect(behind.positions()).toEqual([...first.slice(skipped), ...next]);
      expect(behind.results).toEqual(live.results.slice(skipped));
      expect((await counters(server)).executions - before.executions).toBe(3);
    } finally {
      await client.dispose();
    }
  });

  it('lets graphql-ws complete: a client leaving ends only its own part of the cohort', async () => {
    const [start] = await appendEvents(server, 1);
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const leaving = sink(client, EVENTS, { after: start });
      const staying = sink(client, EVENTS, { after: start });
      const [first] = await appendEvents(server, 1);
      await waitUntil(() => leaving.results.length === 1 && staying.results.length === 1, 'both to get the first event');
      leaving.dispose();
      const rest = await appendEvents(server, 3, 1);
      await waitUntil(() => staying.results.length === 4, 'the one staying to get three more');
      expect(staying.positions()).toEqual([first, ...rest]);
      expect(leaving.positions()).toEqual([first]);
    } finally {
      await client.dispose();
    }
  });

  it('ends a subscriber that stopped reading with a RESUME_AFTER error frame, and the others go on', { timeout: 120_000 }, async () => {
    const [start] = await appendEvents(server, 1);
    const stalled = pausableClient(server);
    const live = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const slow = sink(stalled.client, BULKY, { after: start });
      const fast = sink(live, BULKY, { after: start });
      const [first] = await appendEvents(server, 1);
      await waitUntil(() => slow.results.length === 1 && fast.results.length === 1, 'both to get the first event');
      const { cut } = await counters(server);
      stalled.pause();
      const appended = [first!];
      while ((await counters(server)).cut === cut) {
        if (appended.length > 2000) throw new Error('the stalled subscriber was never cut off');
        appended.push(...(await appendEvents(server, 20)));
      }
      appended.push(...(await appendEvents(server, 20)));
      await waitUntil(() => fast.results.length === appended.length, 'the live subscriber to get every event', 30_000);
      expect(fast.positions()).toEqual(appended);

      stalled.resume();
      await waitUntil(() => slow.error() !== undefined, 'the error frame');
      expect(slow.completed()).toBe(false);
      const received = slow.positions();
      expect(received).toEqual(appended.slice(0, received.length));
      const errors = slow.error() as NextPayload['errors'];
      expect(errors).toHaveLength(1);
      expect(errors![0]!.extensions).toEqual({ code: 'RESUME_AFTER', after: received.at(-1) });
      expect(errors![0]!.message).toContain(`after: "${received.at(-1)}"`);

      const resumed = sink(stalled.client, BULKY, { after: received.at(-1) });
      await waitUntil(() => resumed.results.length === appended.length - received.length, 'the resumed subscription to catch up', 30_000);
      expect([...received, ...resumed.positions()]).toEqual(appended);
    } finally {
      await Promise.all([stalled.client.dispose(), live.dispose()]);
    }
  });

  it('writes a stalled raw socket no further than the limit past its last read receipt and holds at most the limit for it; resuming with `after` gives the rest, no gap, no duplicate', { timeout: 120_000 }, async () => {
    const [start] = await appendEvents(server, 1);
    const stalled = await rawClient(server);
    stalled.subscribe('s', BULKY, { after: start });
    // The same document text as the raw client's, so both are one cohort (a printed copy would be another document).
    const live = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const fast = sink(live, BULKY, { after: start });
      const [first] = await appendEvents(server, 1);
      await waitUntil(() => stalled.positions('s').length === 1 && fast.results.length === 1, 'both to get the first event');
      const frameBytes = Buffer.byteLength(stalled.frames.at(-1)!);
      const { cut } = await counters(server);
      stalled.socket.pause();
      const appended = [first!];
      let largestBacklog = 0;
      while ((await counters(server)).cut === cut) {
        if (appended.length > 2000) throw new Error('the stalled subscriber was never cut off');
        appended.push(...(await appendEvents(server, 20)));
        largestBacklog = Math.max(largestBacklog, (await counters(server)).backlog);
      }
      // After the cut nothing more is queued for it, however many events follow.
      for (let round = 0; round < 5; round++) {
        appended.push(...(await appendEvents(server, 20)));
        largestBacklog = Math.max(largestBacklog, (await counters(server)).backlog);
      }
      // Unsent on its socket, plus held for its next read receipt: each at most the limit.
      expect(largestBacklog).toBeLessThanOrEqual(2 * LIMIT + 2 * frameBytes);
      await waitUntil(() => fast.results.length === appended.length, 'the live subscriber to get every event', 30_000);

      stalled.socket.resume();
      await waitUntil(() => stalled.messages().some((message) => message.type === 'error'), 'the error frame');
      const received = stalled.positions('s');
      expect(received).toEqual(appended.slice(0, received.length));
      // Written no further than the limit past what it had confirmed reading (one frame, maybe not yet), however
      // much the kernel buffers between would have taken: without read receipts it got 124 frames here.
      expect(received.length - 1).toBeLessThanOrEqual(Math.floor(LIMIT / frameBytes) + 1);
      const ending = stalled.messages().filter((message) => message.id === 's' && message.type !== 'next');
      expect(ending).toEqual([
        {
          id: 's',
          type: 'error',
          payload: [{ message: expect.stringContaining(`after: "${received.at(-1)}"`), extensions: { code: 'RESUME_AFTER', after: received.at(-1) } }],
        },
      ]);

      stalled.subscribe('s2', BULKY, { after: received.at(-1) });
      await waitUntil(() => stalled.positions('s2').length === appended.length - received.length, 'the resumed subscription to catch up', 30_000);
      expect([...received, ...stalled.positions('s2')]).toEqual(appended);
    } finally {
      stalled.socket.close();
      await live.dispose();
    }
  });

  it('paces a cohort still replaying the log to its slowest reader: one reading in spurts is never cut, and both get every event', { timeout: 60_000 }, async () => {
    const [start] = await appendEvents(server, 1);
    // ~35 kB a frame: 40 events are twenty limits of backlog.
    const backlog = await appendEvents(server, 40);
    const fast = await rawClient(server);
    const slow = await rawClient(server);
    try {
      const before = await counters(server);
      slow.socket.pause();
      // Sent together, so both join one cohort at `start` before it reads its first page.
      fast.subscribe('s', BULKY, { after: start });
      slow.subscribe('s', BULKY, { after: start });
      for (let spurt = 0; spurt < 200 && slow.positions('s').length < backlog.length; spurt++) {
        await delay(50);
        slow.socket.resume();
        await delay(10);
        slow.socket.pause();
      }
      slow.socket.resume();
      await waitUntil(() => fast.positions('s').length === backlog.length && slow.positions('s').length === backlog.length, 'both to get the backlog', 30_000);
      expect(fast.positions('s')).toEqual(backlog);
      expect(slow.positions('s')).toEqual(backlog);
      const after = await counters(server);
      // One cohort (the second may open its own and merge after an event or two), and nobody cut: racing
      // ahead with the fast one, the cohort cut the slow one.
      expect(after.executions - before.executions).toBeLessThan(backlog.length + 5);
      expect(after.cut).toBe(before.cut);
    } finally {
      fast.socket.close();
      slow.socket.close();
    }
  });

  it('lets graphql-ws send complete when the server shuts down, to every member of a cohort', async () => {
    const own = await startTestServer();
    const [start] = await appendEvents(own, 1);
    const clients = [openClient('graphql-ws', own), openClient('graphql-ws', own)];
    const subs = clients.map((client) => client.subscribe(parse(EVENTS), { after: start }));
    await appendEvents(own, 2);
    await waitUntil(() => subs.every((sub) => sub.results.length === 2), 'both to get two events');
    await own.stop();
    await Promise.all(subs.map((sub) => sub.waitForEnd()));
    for (const sub of subs) {
      expect(sub.completed()).toBe(true);
      expect(sub.error()).toBeUndefined();
    }
    await Promise.all(clients.map((client) => client.dispose()));
  });
});

describe('websocket fan-out: a subscriber that stops reading with little unsent', () => {
  const STALL_MS = 400;
  let server: TestServer;
  beforeAll(async () => {
    // The byte limit at its default (1 MB): small events never reach it, so only the unanswered ping can cut.
    server = await startTestServer({ env: { SUBSCRIPTION_STALL_TIMEOUT_MS: String(STALL_MS) } });
  });
  afterAll(() => server.stop());

  it('is cut with RESUME_AFTER once a ping sent after its events goes unanswered; idle, it is left alone; the live one goes on', { timeout: 60_000 }, async () => {
    const [start] = await appendEvents(server, 1);
    const stalled = pausableClient(server);
    const live = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const slow = sink(stalled.client, EVENTS, { after: start });
      const fast = sink(live, EVENTS, { after: start });
      const appended = await appendEvents(server, 1);
      await waitUntil(() => slow.results.length === 1 && fast.results.length === 1, 'both to get the first event');
      const { cut } = await counters(server);
      stalled.pause();
      // Nothing sent to it meanwhile: not reading costs nothing and is no reason to cut.
      await new Promise((resolve) => setTimeout(resolve, 3 * STALL_MS));
      expect((await counters(server)).cut).toBe(cut);

      while ((await counters(server)).cut === cut) {
        if (appended.length > 500) throw new Error('the stalled subscriber was never cut off');
        appended.push(...(await appendEvents(server, 5, 5)));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await counters(server)).cut).toBe(cut + 1);
      appended.push(...(await appendEvents(server, 5, 5)));
      await waitUntil(() => fast.results.length === appended.length, 'the live subscriber to get every event', 30_000);
      expect(fast.positions()).toEqual(appended);

      stalled.resume();
      await waitUntil(() => slow.error() !== undefined, 'the error frame');
      const received = slow.positions();
      expect(received).toEqual(appended.slice(0, received.length));
      const errors = slow.error() as NextPayload['errors'];
      expect(errors![0]!.extensions).toEqual({ code: 'RESUME_AFTER', after: received.at(-1) });
      expect(errors![0]!.message).toContain(`for more than ${STALL_MS} ms`);

      const resumed = sink(stalled.client, EVENTS, { after: received.at(-1) });
      await waitUntil(() => resumed.results.length === appended.length - received.length, 'the resumed subscription to catch up', 30_000);
      expect([...received, ...resumed.positions()]).toEqual(appended);
    } finally {
      await Promise.all([stalled.client.dispose(), live.dispose()]);
    }
  });
});

describe('websocket fan-out and masking', () => {
  const SECRET = randomBytes(32).toString('base64url');
  const key = new TextEncoder().encode(SECRET);
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(() => server.stop());

  it('keeps one cohort per viewer: two viewers on the same document get different payloads', async () => {
    const tokens = {
      carol: await signToken(key, 'carol'),
      dave: await signToken(key, 'dave'),
      admin: await signToken(key, 'root', { claims: { roles: ['admin'] } }),
    };
    const head = await gql<{ createUser: { position: string } }>(
      server.url,
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { position } } }',
      { input: { id: 'root', username: 'root', email: 'root@example.com' } },
      { authorization: bearer(tokens.admin) },
    );
    const after = head.body.data!.createUser.position;
    const query = 'subscription ($after: String) { userEvents(after: $after) { position ... on UserCreated { username email } } }';
    const viewers = ['carol', 'carol', 'dave', 'admin'] as const;
    const clients = viewers.map((viewer) => openClient('graphql-ws', server, { authorization: bearer(tokens[viewer]) }));
    try {
      const subs = clients.map((client) => client.subscribe<{ userEvents: UserEvent & { username: string } }, { after: string }>(parse(query) as never, { after }));
      // Everyone is in their cohort once a first event reaches them all.
      await gql(server.url, 'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }', { input: { id: 'root', username: 'root2' } }, { authorization: bearer(tokens.admin) });
      await waitUntil(() => subs.every((sub) => sub.results.length === 1), 'every viewer to get the first event');
      const before = await counters(server);
      for (const name of ['carol', 'dave'] as const) {
        await gql(server.url, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename } }', { input: { id: name, username: name, email: `${name}@example.com` } }, { authorization: bearer(tokens[name]) });
      }
      await waitUntil(() => subs.every((sub) => sub.results.length === 3), 'every viewer to get both sign-ups');
      const emails = subs.map((sub) => sub.data().slice(1).map(({ userEvents }) => [userEvents.username, userEvents.email]));
      expect(emails).toEqual([
        [['carol', 'carol@example.com'], ['dave', null]],
        [['carol', 'carol@example.com'], ['dave', null]],
        [['carol', null], ['dave', 'dave@example.com']],
        [['carol', 'carol@example.com'], ['dave', 'dave@example.com']],
      ]);
      // carol's two subscribers share a cohort; dave and the admin each have their own.
      const after2 = await counters(server);
      expect(after2.executions - before.executions).toBe(2 * 3);
      expect(after2.messages - before.messages).toBe(2 * 4);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it('completes each member of a cohort when its own token expires; the others go on', { timeout: 30_000 }, async () => {
    const admin = await signToken(key, 'root', { claims: { roles: ['admin'] } });
    const [start] = await appendEvents(server, 1, 1, bearer(admin));
    const shortLived = openClient('graphql-ws', server, { authorization: bearer(await signToken(key, 'erin', { expiresIn: 6 })) });
    const longLived = openClient('graphql-ws', server, { authorization: bearer(await signToken(key, 'erin')) });
    try {
      const [expiring, lasting] = [shortLived, longLived].map((client) => client.subscribe(parse(EVENTS), { after: start }));
      await appendEvents(server, 1, 1, bearer(admin));
      await waitUntil(() => expiring!.results.length === 1 && lasting!.results.length === 1, 'both to get the first event');
      // One viewer (erin), one document: one cohort by now (had one subscribed after the first event
      // went out, its own cohort would have caught up and merged), so one execution for both.
      const before = await counters(server);
      await appendEvents(server, 1, 1, bearer(admin));
      await waitUntil(() => expiring!.results.length === 2 && lasting!.results.length === 2, 'both to get the second event');
      expect((await counters(server)).executions - before.executions).toBe(1);
      await expiring!.waitForEnd(10_000);
      expect(expiring!.completed()).toBe(true);
      expect(expiring!.error()).toBeUndefined();
      const [later] = await appendEvents(server, 1, 1, bearer(admin));
      await waitUntil(() => lasting!.results.length === 3, 'the lasting one to get the next event');
      expect(lasting!.data().map((data) => (data as { userEvents: UserEvent }).userEvents.position).at(-1)).toBe(later);
      expect(expiring!.results).toHaveLength(2);
    } finally {
      await Promise.all([shortLived.dispose(), longLived.dispose()]);
    }
  });
});

describe('websocket fan-out: frames held for a read receipt', () => {
  const SECRET = randomBytes(32).toString('base64url');
  const key = new TextEncoder().encode(SECRET);
  const HELD_LIMIT = 128 * 1024;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWT_ISSUER: ISSUER,
        AUTH_JWT_AUDIENCE: AUDIENCE,
        SUBSCRIPTION_MAX_BUFFERED_BYTES: String(HELD_LIMIT),
        MAX_ALIASES: '2000',
        MAX_TOKENS: '20000',
        MAX_COST: '10000000',
      },
    });
  });
  afterAll(() => server.stop());

  it('sends what it held for a read receipt before the complete that ends an expiring token’s stream', { timeout: 30_000 }, async () => {
    const admin = bearer(await signToken(key, 'root', { claims: { roles: ['admin'] } }));
    const [start] = await appendEvents(server, 1, 1, admin);
    const expiresInSeconds = 4;
    const expiresAt = Date.now() + expiresInSeconds * 1000;
    const client = await rawClient(server, bearer(await signToken(key, 'erin', { expiresIn: expiresInSeconds })));
    try {
      client.subscribe('s', BULKY, { after: start });
      const [first] = await appendEvents(server, 1, 1, admin);
      await waitUntil(() => client.positions('s').length === 1, 'the first event');
      const frameBytes = Buffer.byteLength(client.frames.at(-1)!);
      // Time for the ping behind the first frame to be answered: everything sent is confirmed when it stops reading.
      await delay(200);
      client.socket.pause();
      // ~35 kB a frame: as many as fit in the limit are written, the next is held for a receipt that cannot come.
      const appended = [first!, ...(await appendEvents(server, 5, 5, admin))];
      await waitUntil(async () => (await counters(server)).backlog > 30_000, 'a frame to be held for a receipt');
      await delay(Math.max(0, expiresAt - Date.now()) + 500);
      client.socket.resume();
      await waitUntil(() => client.messages().some((message) => message.id === 's' && message.type !== 'next'), 'the end of the stream');
      const received = client.positions('s');
      expect(received).toEqual(appended.slice(0, received.length));
      // More than the limit's worth after the first: the held frame went out before the complete.
      expect(received.length - 1).toBeGreaterThan(Math.floor(HELD_LIMIT / frameBytes));
      expect(client.messages().filter((message) => message.id === 's' && message.type !== 'next')).toEqual([{ id: 's', type: 'complete' }]);
    } finally {
      client.socket.close();
    }
  });
});
