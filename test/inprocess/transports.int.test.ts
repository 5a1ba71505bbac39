/**
 * What the app does around the resolvers, through `app.fetch`: batches,
 * automatic persisted queries, refusals of malformed requests, readiness, and
 * authentication when the settings turn it on. The real listener's share
 * (sockets, CORS preflights from browsers, graphql-ws) is in test/http/ and test/auth/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { BATCH_CODES } from '../../src/server/batching.js';
import { PERSISTED_OPERATION_CODES } from '../../src/server/persisted-operations.js';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { CreateUserDocument, UpdateUserDocument, UsersDocument } from '../gql/graphql.js';
import { expectType, type GraphQLErrorBody } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

type Body = { data?: Record<string, unknown> | null; errors?: GraphQLErrorBody[] };
const JSON_RESPONSE = 'application/graphql-response+json';

let api: InProcessApp;
beforeAll(async () => {
  api = await createInProcessApp({ env: { MAX_BATCH_SIZE: '3', APQ_MAX_ENTRIES: '2' } });
});
afterAll(async () => {
  await api?.close();
});

async function post(payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await api.fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: JSON_RESPONSE, ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}
async function get(search: string): Promise<{ status: number; body: unknown }> {
  const response = await api.fetch(`${api.url}?${search}`, { headers: { accept: JSON_RESPONSE } });
  return { status: response.status, body: await response.json() };
}
const codeOf = (body: unknown) => (body as Body).errors?.[0]?.extensions?.['code'];

const createUser = (n: number) => ({
  query: 'mutation Create($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } } }',
  variables: { input: { id: `batch-${n}`, email: `batch-${n}@example.com`, username: `batch_${n}` } },
});
const readUser = (id: string) => ({ query: 'query Read($id: ID!) { user(id: $id) { id username } }', variables: { id } });

describe('batching', () => {
  it('answers an array of operations with their results, in order, each mutation seen by the reads after it', async () => {
    const { status, body } = await post([createUser(1), { query: '{ __typename }' }, readUser('nobody')]);
    expect(status).toBe(200);
    expect(body).toEqual([
      { data: { createUser: { __typename: 'CreateUserSuccess', user: { id: 'User:batch-1' } } } },
      { data: { __typename: 'Query' }, extensions: { position: expect.any(String) } },
      { data: { user: null }, extensions: { position: expect.any(String) } },
    ]);
    expect((await post([readUser('batch-1')])).body).toEqual([{ data: { user: { id: 'User:batch-1', username: 'batch_1' } }, extensions: { position: expect.any(String) } }]);
  });

  it('refuses a batch over MAX_BATCH_SIZE whole with 413, before any of it runs; an empty one with 400', async () => {
    const head = await api.system.store.headPosition();
    const { status, body } = await post([createUser(10), createUser(11), createUser(12), createUser(13)]);
    expect(status).toBe(413);
    expect((body as Body).errors?.[0]?.extensions).toEqual({ code: BATCH_CODES.tooLarge, limit: 3 });
    expect(await api.system.store.headPosition()).toBe(head);
    const empty = await post([]);
    expect(empty.status).toBe(400);
    expect(codeOf(empty.body)).toBe(BATCH_CODES.empty);
  });
});

describe('automatic persisted queries', () => {
  const sha256 = (query: string) => createHash('sha256').update(query).digest('hex');
  const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
  const userQuery = (n: number) => `query User${n}($id: ID!) { user(id: $id) { id } n${n}: __typename }`;
  async function getByHash(hash: string): Promise<{ status: number; body: Body }> {
    const search = new URLSearchParams({ extensions: JSON.stringify(persisted(hash)), variables: JSON.stringify({ id: 'x' }) });
    const response = await api.fetch(`${api.url}?${search}`, { headers: { accept: JSON_RESPONSE, [CSRF_HEADER]: '1' } });
    return { status: response.status, body: (await response.json()) as Body };
  }

  it('an unknown hash is PERSISTED_QUERY_NOT_FOUND; once registered, the hash alone runs the query', async () => {
    const query = userQuery(1);
    const unknown = await getByHash(sha256(query));
    expect(codeOf(unknown.body)).toBe(PERSISTED_OPERATION_CODES.notFound);
    expect(unknown.body.data).toBeUndefined();
    const registered = await post({ query, variables: { id: 'x' }, extensions: persisted(sha256(query)) });
    expect(registered).toEqual({ status: 200, body: { data: { user: null, n1: 'Query' }, extensions: { position: expect.any(String) } } });
    expect(await getByHash(sha256(query))).toEqual(registered);
  });

  it('refuses a query sent with another query’s hash, and keeps at most APQ_MAX_ENTRIES', async () => {
    const mismatch = await post({ query: userQuery(2), variables: { id: 'x' }, extensions: persisted(sha256(userQuery(3))) });
    expect(mismatch.status).toBe(400);
    expect(codeOf(mismatch.body)).toBe('PERSISTED_QUERY_MISMATCH');
    for (const n of [4, 5, 6]) expect((await post({ query: userQuery(n), variables: { id: 'x' }, extensions: persisted(sha256(userQuery(n))) })).status).toBe(200);
    expect(codeOf((await getByHash(sha256(userQuery(4)))).body)).toBe(PERSISTED_OPERATION_CODES.notFound);
    expect((await getByHash(sha256(userQuery(6)))).body).toEqual({ data: { user: null, n6: 'Query' }, extensions: { position: expect.any(String) } });
  });
});

describe('refused requests', () => {
  it.each([
    ['a body that is not JSON', () => post('{"query": '), 400, 'BAD_REQUEST'],
    ['no query', () => post({}), 400, 'BAD_REQUEST'],
    ['a syntax error', () => post({ query: '{ users {' }), 400, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', () => post({ query: '{ nope }' }), 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['a missing required variable', () => post({ query: 'query ($id: ID!) { user(id: $id) { id } }', variables: {} }), 400, 'BAD_USER_INPUT'],
    ['a subscription over a plain POST', () => post({ query: 'subscription { userEvents { userId } }' }), 406, 'NOT_ACCEPTABLE'],
    ['a mutation by GET', () => get(`query=${encodeURIComponent('mutation { __typename }')}`), 405, 'BAD_REQUEST'],
  ] as const)('%s: %i with %s, and nothing written', async (_name, request, status, code) => {
    const head = await api.system.store.headPosition();
    const response = await request();
    expect(response.status).toBe(status);
    expect(codeOf(response.body)).toBe(code);
    expect(await api.system.store.headPosition()).toBe(head);
  });

  it('/health reports ready with each projection; after close it is gone with the app', async () => {
    const own = await createInProcessApp();
    const response = await own.fetch('http://in-process.test/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', projections: [{ name: 'users', lag: 0 }, { name: 'user-search', lag: 0 }] });
    await own.close();
    expect((await own.fetch('http://in-process.test/health')).status).toBe(503);
  });
});

describe('authentication, when the settings turn it on', () => {
  const secret = randomBytes(32).toString('base64url');
  let secured: InProcessApp;
  beforeAll(async () => {
    secured = await createInProcessApp({ env: { AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('a mutation without a token is Unauthenticated; with one it runs, and only its owner sees the email', async () => {
    const head = await secured.system.store.headPosition();
    const anonymous = await secured.execute(CreateUserDocument, { input: { username: 'anon', email: 'anon@example.com' } });
    expect(expectType(anonymous.data!.createUser, 'Unauthenticated').message).toMatch(/bearer token/);
    expect(await secured.system.store.headPosition()).toBe(head);

    const alice = { authorization: bearer(await signToken(new TextEncoder().encode(secret), 'alice')) };
    const created = await secured.execute(CreateUserDocument, { input: { id: 'alice', username: 'alice', email: 'alice@example.com' } }, alice);
    expect(expectType(created.data!.createUser, 'CreateUserSuccess').user).toMatchObject({ id: 'User:alice', email: 'alice@example.com' });
    const renamed = await secured.execute(UpdateUserDocument, { input: { id: 'alice', username: 'alice_2' } }, alice);
    expect(expectType(renamed.data!.updateUser, 'UpdateUserSuccess').user.username).toBe('alice_2');
    const listed = await secured.execute(UsersDocument, { first: 10 });
    expect(listed.data!.users.edges.map((e) => [e.node.id, e.node.email])).toEqual([['User:alice', null]]);
  });

  it('a bad token is 401 UNAUTHENTICATED, even for a query that needs none', async () => {
    const { status, body } = await secured.gql('{ __typename }', undefined, { authorization: 'Bearer not.a.jwt' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });
});
