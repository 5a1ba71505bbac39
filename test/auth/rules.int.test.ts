/**
 * Who may do what, with authentication on (HS256 secret): every rule over
 * HTTP, through the app in process (`app.fetch`), with real tokens signed by
 * jose. The same rules on subscriptions (graphql-ws and SSE, over a socket)
 * are in rules.e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument, UpdateUserDocument, UserDocument, UsersDocument } from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { AUDIENCE, bearer, ISSUER, signToken, unsignedToken } from './support.js';

const SECRET = randomBytes(32).toString('base64url');
const secretKey = new TextEncoder().encode(SECRET);

let api: InProcessApp;
let alice: { id: string; email: string };
let bob: { id: string; email: string };
const tokens = {} as Record<'alice' | 'bob' | 'admin' | 'adminByString', string>;

const auth = (token: string) => ({ authorization: bearer(token) });
const head = () => api.system.store.headPosition();

beforeAll(async () => {
  api = await createInProcessApp({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  tokens.alice = await signToken(secretKey, 'alice');
  tokens.bob = await signToken(secretKey, 'bob');
  tokens.admin = await signToken(secretKey, 'root', { claims: { roles: ['ops', 'admin'] } });
  tokens.adminByString = await signToken(secretKey, 'root2', { claims: { roles: 'admin' } });
  // Each user signs up with the id their token names.
  for (const [name, token] of [['alice', tokens.alice], ['bob', tokens.bob]] as const) {
    const { data } = await api.execute(CreateUserDocument, { input: { id: name, username: name, email: `${name}@example.com` } }, auth(token));
    const created = expectType(data!.createUser, 'CreateUserSuccess');
    expect(created.user.email).toBe(`${name}@example.com`);
  }
  alice = { id: 'alice', email: 'alice@example.com' };
  bob = { id: 'bob', email: 'bob@example.com' };
});

afterAll(async () => {
  await api?.close();
});

describe('without a token', () => {
  it('queries work, and every email is null', async () => {
    const { status, data, errors } = await api.execute(UsersDocument, { first: 10 });
    expect(status).toBe(200);
    expect(errors).toBeUndefined();
    expect(data!.users.edges.map((e) => [e.node.id, e.node.email])).toEqual([
      ['User:alice', null],
      ['User:bob', null],
    ]);
  });

  it('createUser is Unauthenticated, and nothing is written', async () => {
    const before = await head();
    const { data } = await api.execute(CreateUserDocument, { input: { username: 'anon', email: 'anon@example.com' } });
    expect(expectType(data!.createUser, 'Unauthenticated').message).toMatch(/bearer token/);
    expect(await head()).toBe(before);
  });

  it('updateUser is Unauthenticated, and nothing is written', async () => {
    const before = await head();
    const { data } = await api.execute(UpdateUserDocument, { input: { id: alice.id, username: 'hijacked' } });
    expectType(data!.updateUser, 'Unauthenticated');
    expect(await head()).toBe(before);
  });
});

describe("with a user's token", () => {
  it('sees their own email and no one else’s', async () => {
    const { data } = await api.execute(UsersDocument, { first: 10 }, auth(tokens.alice));
    expect(data!.users.edges.map((e) => [e.node.id, e.node.email])).toEqual([
      ['User:alice', alice.email],
      ['User:bob', null],
    ]);
    const single = await api.execute(UserDocument, { id: bob.id }, auth(tokens.alice));
    expect(single.data!.user).toMatchObject({ id: `User:${bob.id}`, username: 'bob', email: null });
  });

  it('updates their own user', async () => {
    const { data } = await api.execute(UpdateUserDocument, { input: { id: alice.id, username: 'alice_2' } }, auth(tokens.alice));
    const updated = expectType(data!.updateUser, 'UpdateUserSuccess');
    expect(updated.user).toMatchObject({ id: `User:${alice.id}`, username: 'alice_2', email: alice.email });
  });

  it('may not update another user: Forbidden, and nothing is written', async () => {
    const before = await head();
    const { data } = await api.execute(UpdateUserDocument, { input: { id: bob.id, email: 'mine@example.com' } }, auth(tokens.alice));
    expect(expectType(data!.updateUser, 'Forbidden').message).toMatch(/admin/);
    expect(await head()).toBe(before);
    const check = await api.execute(UserDocument, { id: bob.id }, auth(tokens.bob));
    expect(check.data!.user?.email).toBe(bob.email);
  });

  it('may create a user (any valid token may); the new user’s email is not theirs to see', async () => {
    const { data } = await api.execute(CreateUserDocument, { input: { username: 'carol', email: 'carol@example.com' } }, auth(tokens.alice));
    const created = expectType(data!.createUser, 'CreateUserSuccess');
    expect(created.user.email).toBeNull();
  });
});

describe("with an admin's token", () => {
  it.each(['admin', 'adminByString'] as const)('(%s) sees every email and updates any user', async (which) => {
    const { data } = await api.execute(UsersDocument, { first: 10 }, auth(tokens[which]));
    expect(data!.users.edges.every((e) => e.node.email !== null)).toBe(true);
    const update = await api.execute(UpdateUserDocument, { input: { id: bob.id, username: `bob_${which}` } }, auth(tokens[which]));
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
    const response = await api.fetch(api.url, {
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
    const { status, body } = await api.gql('{ __typename }', undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toBe('Authorization must be "Bearer <token>".');
  });

  it('even for a query that needs no token (a bad credential never downgrades to anonymous)', async () => {
    const expired = await signToken(secretKey, 'alice', { expiresIn: -60 });
    const { status } = await api.gql('{ users { totalCount } }', undefined, auth(expired));
    expect(status).toBe(401);
  });
});
