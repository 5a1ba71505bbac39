/**
 * Who may do what, with authentication on (HS256 secret): every rule against
 * the real server with real tokens signed by jose, over HTTP, graphql-ws and SSE.
 */
import { randomBytes } from 'node:crypto';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument, UpdateUserDocument, UserDocument, UserEventsDocument, UsersDocument } from '../gql/graphql.js';
import { execute, expectType } from '../support/graphql.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';
import { AUDIENCE, bearer, ISSUER, signToken, unsignedToken } from './support.js';

const SECRET = randomBytes(32).toString('base64url');
const secretKey = new TextEncoder().encode(SECRET);

let server: TestServer;
let alice: { id: string; email: string };
let bob: { id: string; email: string };
const tokens = {} as Record<'alice' | 'bob' | 'admin' | 'adminByString', string>;

const auth = (token: string) => ({ authorization: bearer(token) });
const head = () => server.system.store.headPosition();

beforeAll(async () => {
  server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  tokens.alice = await signToken(secretKey, 'alice');
  tokens.bob = await signToken(secretKey, 'bob');
  tokens.admin = await signToken(secretKey, 'root', { claims: { roles: ['ops', 'admin'] } });
  tokens.adminByString = await signToken(secretKey, 'root2', { claims: { roles: 'admin' } });
  // Each user signs up with the id their token names.
  for (const [name, token] of [['alice', tokens.alice], ['bob', tokens.bob]] as const) {
    const { data } = await execute(server.url, CreateUserDocument, { input: { id: name, username: name, email: `${name}@example.com` } }, auth(token));
    const created = expectType(data!.createUser, 'CreateUserSuccess');
    expect(created.user.email).toBe(`${name}@example.com`);
  }
  alice = { id: 'alice', email: 'alice@example.com' };
  bob = { id: 'bob', email: 'bob@example.com' };
});

afterAll(async () => {
  await server?.stop();
});

describe('without a token', () => {
  it('queries work, and every email is null', async () => {
    const { status, data, errors } = await execute(server.url, UsersDocument, { first: 10 });
    expect(status).toBe(200);
    expect(errors).toBeUndefined();
    expect(data!.users.edges.map((e) => [e.node.id, e.node.email])).toEqual([
      ['User:alice', null],
      ['User:bob', null],
    ]);
  });

  it('createUser is Unauthenticated, and nothing is written', async () => {
    const before = await head();
    const { data } = await execute(server.url, CreateUserDocument, { input: { username: 'anon', email: 'anon@example.com' } });
    expect(expectType(data!.createUser, 'Unauthenticated').message).toMatch(/bearer token/);
    expect(await head()).toBe(before);
  });

  it('updateUser is Unauthenticated, and nothing is written', async () => {
    const before = await head();
    const { data } = await execute(server.url, UpdateUserDocument, { input: { id: alice.id, username: 'hijacked' } });
    expectType(data!.updateUser, 'Unauthenticated');
    expect(await head()).toBe(before);
  });
});

describe("with a user's token", () => {
  it('sees their own email and no one else’s', async () => {
    const { data } = await execute(server.url, UsersDocument, { first: 10 }, auth(tokens.alice));
    expect(data!.users.edges.map((e) => [e.node.id, e.node.email])).toEqual([
      ['User:alice', alice.email],
      ['User:bob', null],
    ]);
    const single = await execute(server.url, UserDocument, { id: bob.id }, auth(tokens.alice));
    expect(single.data!.user).toMatchObject({ id: `User:${bob.id}`, username: 'bob', email: null });
  });

  it('updates their own user', async () => {
    const { data } = await execute(server.url, UpdateUserDocument, { input: { id: alice.id, username: 'alice_2' } }, auth(tokens.alice));
    const updated = expectType(data!.updateUser, 'UpdateUserSuccess');
    expect(updated.user).toMatchObject({ id: `User:${alice.id}`, username: 'alice_2', email: alice.email });
  });

  it('may not update another user: Forbidden, and nothing is written', async () => {
    const before = await head();
    const { data } = await execute(server.url, UpdateUserDocument, { input: { id: bob.id, email: 'mine@example.com' } }, auth(tokens.alice));
    expect(expectType(data!.updateUser, 'Forbidden').message).toMatch(/admin/);
    expect(await head()).toBe(before);
    const check = await execute(server.url, UserDocument, { id: bob.id }, auth(tokens.bob));
    expect(check.data!.user?.email).toBe(bob.email);
  });

  it('may create a user (any valid token may); the new user’s email is not theirs to see', async () => {
    const { data } = await execute(server.url, CreateUserDocument, { input: { username: 'carol', email: 'carol@example.com' } }, auth(tokens.alice));
    const created = expectType(data!.createUser, 'CreateUserSuccess');
    expect(created.user.email).toBeNull();
  });
});

describe("with an admin's token", () => {
  it.each(['admin', 'adminByString'] as const)('(%s) sees every email and updates any user', async (which) => {
    const { data } = await execute(server.url, UsersDocument, { first: 10 }, auth(tokens[which]));
    expect(data!.users.edges.every((e) => e.node.email !== null)).toBe(true);
    const update = await execute(server.url, UpdateUserDocument, { input: { id: bob.id, username: `bob_${which}` } }, auth(tokens[which]));
    expect(expectType(update.data!.updateUser, 'UpdateUserSuccess').user).toMatchObject({ username: `bob_${which}`, email: bob.email });
  });
});

describe('a token that is present but not valid fails the whole request with 401', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['forged (signed with another secret)', () => signToken(new TextEncoder().encode(SECRET + 'x'), 'alice'), /signature/],
    ['expired', () => signToken(secretKey, 'alice', { expiresIn: -60 }), /expired/],
    ['from another issuer', () => signToken(secretKey, 'alice', { issuer: 'https://evil.test' }), /"iss"/],
    ['for another audience', () => signToken(secretKey, 'alice', { audience: 'another-api' }), /"aud"/],
    ['without exp', () => signToken(secretKey, 'alice', { expiresIn: null }), /"exp"/],
    ['without sub', () => signToken(secretKey, undefined), /"sub"/],
    ['unsigned (alg none) claiming admin', async () => unsignedToken('root'), /malformed|algorithm/],
    ['garbage', async () => 'not.a.jwt', /malformed|algorithm/],
  ];

  it.each(cases)('%s', async (_case, make, message) => {
    const before = await head();
    const token = await make();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: bearer(token) },
      body: JSON.stringify({ query: 'mutation { updateUser(input: { id: "bob", username: "forged" }) { __typename } }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const body = (await response.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]!.message).toMatch(message);
    expect(await head()).toBe(before);
  });

  it('an Authorization header that is not "Bearer <token>"', async () => {
    const { status, body } = await gql(server.url, '{ __typename }', undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toBe('Authorization must be "Bearer <token>".');
  });

  it('even for a query that needs no token (a bad credential never downgrades to anonymous)', async () => {
    const expired = await signToken(secretKey, 'alice', { expiresIn: -60 });
    const { status } = await gql(server.url, '{ users { totalCount } }', undefined, auth(expired));
    expect(status).toBe(401);
  });
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
