/**
 * Who may see what on subscriptions, with authentication on (HS256 secret):
 * real tokens signed by jose, against the real server over graphql-ws and SSE
 * (a websocket and a streamed response on its port). The rules over plain
 * HTTP are in rules.int.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument, UpdateUserDocument, UserEventsDocument } from '../gql/graphql.js';
import { execute, expectType } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';
import { AUDIENCE, bearer, ISSUER, signToken } from './support.js';

const SECRET = randomBytes(32).toString('base64url');
const secretKey = new TextEncoder().encode(SECRET);

let server: TestServer;
let alice: { id: string; email: string };
let bob: { id: string; email: string };
const tokens = {} as Record<'alice' | 'admin', string>;

const auth = (token: string) => ({ authorization: bearer(token) });

beforeAll(async () => {
  server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  tokens.alice = await signToken(secretKey, 'alice');
  tokens.admin = await signToken(secretKey, 'root', { claims: { roles: ['ops', 'admin'] } });
  const bobToken = await signToken(secretKey, 'bob');
  // Each user signs up with the id their token names; then alice renames herself. These are the log's first three events.
  for (const [name, token] of [['alice', tokens.alice], ['bob', bobToken]] as const) {
    const { data } = await execute(server.url, CreateUserDocument, { input: { id: name, username: name, email: `${name}@example.com` } }, auth(token));
    expectType(data!.createUser, 'CreateUserSuccess');
  }
  const { data } = await execute(server.url, UpdateUserDocument, { input: { id: 'alice', username: 'alice_2' } }, auth(tokens.alice));
  expectType(data!.updateUser, 'UpdateUserSuccess');
  alice = { id: 'alice', email: 'alice@example.com' };
  bob = { id: 'bob', email: 'bob@example.com' };
});

afterAll(async () => {
  await server?.stop();
});

describe('subscriptions see what their token may see', () => {
  for (const transport of transports) {
    it(`${transport}: the owner sees their email, others see null, an admin sees all`, async () => {
      const clients = {
        alice: openClient(transport, server, { authorization: bearer(tokens.alice) }),
        anonymous: openClient(transport, server),
        admin: openClient(transport, server, { authorization: bearer(tokens.admin) }),
      };
      try {
        const from = { after: '0' };
        const subs = Object.fromEntries(Object.entries(clients).map(([name, client]) => [name, client.subscribe(UserEventsDocument, from)]));
        // alice and bob created, then alice renamed: the first three events of the log.
        for (const sub of Object.values(subs)) await sub.waitForResults(3);
        const emails = (name: string) =>
          subs[name]!.data()
            .slice(0, 3)
            .map(({ userEvents: e }) => [e.userId, e.__typename === 'UserCreated' ? e.email : e.__typename === 'UserUpdated' ? e.changedEmail : undefined]);
        expect(emails('alice')).toEqual([
          ['User:alice', alice.email],
          ['User:bob', null],
          ['User:alice', null], // a rename: the email did not change
        ]);
        expect(emails('anonymous')).toEqual([
          ['User:alice', null],
          ['User:bob', null],
          ['User:alice', null],
        ]);
        expect(emails('admin')).toEqual([
          ['User:alice', alice.email],
          ['User:bob', bob.email],
          ['User:alice', null],
        ]);
      } finally {
        for (const client of Object.values(clients)) await client.dispose();
      }
    });

    it(`${transport}: a forged token gets no events`, async () => {
      const forged = await signToken(new TextEncoder().encode(SECRET + 'x'), 'root', { claims: { roles: ['admin'] } });
      const client = openClient(transport, server, { authorization: bearer(forged) });
      try {
        const sub = client.subscribe(UserEventsDocument, { after: '0' });
        await sub.waitForEnd();
        expect(sub.data()).toEqual([]);
        if (transport === 'graphql-ws') expect(client.closeEvents.map((e) => e.code)).toEqual([4403]);
        else expect(String(sub.error())).toMatch(/401|expired|signature|Unauthorized/i);
      } finally {
        await client.dispose();
      }
    });

    it(`${transport}: a subscription completes when its token expires`, async () => {
      // Accepted (a refused one ends with an error, not a completion), then ended by the expiry.
      const shortLived = await signToken(secretKey, 'alice', { expiresIn: 3 });
      const client = openClient(transport, server, { authorization: bearer(shortLived) });
      try {
        const sub = client.subscribe(UserEventsDocument, { after: '0' });
        await sub.waitForEnd();
        expect(sub.completed()).toBe(true);
        expect(sub.error()).toBeUndefined();
      } finally {
        await client.dispose();
      }
    });
  }

  it('graphql-ws: a connection whose token has expired accepts no new subscription', async () => {
    const shortLived = await signToken(secretKey, 'alice', { expiresIn: 3 });
    const { exp } = decodeJwt(shortLived);
    // Not lazy: the connection stays open after its subscriptions end, as a long-lived client's would.
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: bearer(shortLived) } });
    try {
      const first = await collect(client, { query: 'subscription { userEvents(after: "0") { position } }' });
      expect(first.error).toBeUndefined(); // accepted, and completed when the token expired
      await waitUntil(() => Date.now() > exp! * 1000, 'the token to expire');
      const second = await collect(client, { query: 'subscription { userEvents(after: "0") { position } }' });
      expect(second.events).toBe(0);
      expect(JSON.stringify(second.error)).toMatch(/The token has expired/);
    } finally {
      await client.dispose();
    }
  });

});

/** Runs one operation on a graphql-ws client to its end: how many results, and the error if any. */
function collect(client: Client, payload: { query: string }): Promise<{ events: number; error: unknown }> {
  let events = 0;
  return new Promise((resolve) => {
    client.subscribe(payload, {
      next: () => void (events += 1),
      error: (error) => resolve({ events, error }),
      complete: () => resolve({ events, error: undefined }),
    });
  });
}
