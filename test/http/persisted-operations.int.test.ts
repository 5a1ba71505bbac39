/**
 * Persisted operations, through the app in process (`app.fetch`): Apollo's
 * automatic persisted queries (on by default, a bounded store), and the
 * trusted-documents mode that runs only the operations of a manifest. Clients
 * speak the protocol as Apollo's persisted-query link does. Trusted documents
 * over graphql-ws need the real server: persisted-operations.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { PERSISTED_OPERATION_CODES } from '../../src/server/persisted-operations.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

const sha256 = (query: string) => createHash('sha256').update(query).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

async function post(api: InProcessApp, payload: unknown): Promise<{ status: number; body: Body }> {
  const response = await api.fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

/** A hash-only GET, as Apollo's link sends with `useGETForHashedQueries` (browsers need the CSRF header). */
async function getByHash(api: InProcessApp, hash: string, variables?: Record<string, unknown>): Promise<{ status: number; body: Body }> {
  const search = new URLSearchParams({ extensions: JSON.stringify(persisted(hash)), ...(variables ? { variables: JSON.stringify(variables) } : {}) });
  const response = await api.fetch(`${api.url}?${search}`, { headers: { accept: 'application/graphql-response+json', [CSRF_HEADER]: '1' } });
  return { status: response.status, body: (await response.json()) as Body };
}

const codeOf = (body: Body) => body.errors?.[0]?.extensions?.['code'];
const userQuery = (n: number) => `query User${n}($id: ID!) { user(id: $id) { id } n${n}: __typename }`;

describe('automatic persisted queries (on by default, bounded store)', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp({ env: { APQ_MAX_ENTRIES: '2' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers an unknown hash PERSISTED_QUERY_NOT_FOUND; after registration the hash alone runs the query', async () => {
    const query = userQuery(1);
    const hash = sha256(query);

    const unknown = await getByHash(api, hash, { id: 'nobody' });
    expect(codeOf(unknown.body)).toBe(PERSISTED_OPERATION_CODES.notFound);
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
    expect(unknown.body.data).toBeUndefined();

    const registered = await post(api, { query, variables: { id: 'nobody' }, extensions: persisted(hash) });
    expect(registered).toEqual({ status: 200, body: { data: { user: null, n1: 'Query' }, extensions: { position: expect.any(String) } } });

    const byHash = await getByHash(api, hash, { id: 'nobody' });
    expect(byHash).toEqual({ status: 200, body: { data: { user: null, n1: 'Query' }, extensions: { position: expect.any(String) } } });
    // POST with the hash alone works too.
    expect(await post(api, { variables: { id: 'x' }, extensions: persisted(hash) })).toEqual(registered);
  });

  it('refuses a query sent with another query’s hash, and remembers nothing for that hash', async () => {
    const hash = sha256(userQuery(2));
    const mismatch = await post(api, { query: userQuery(3), variables: { id: 'x' }, extensions: persisted(hash) });
    expect(mismatch.status).toBe(400);
    expect(codeOf(mismatch.body)).toBe('PERSISTED_QUERY_MISMATCH');
    expect(codeOf((await getByHash(api, hash, { id: 'x' })).body)).toBe(PERSISTED_OPERATION_CODES.notFound);
  });

  it('keeps at most APQ_MAX_ENTRIES queries: registering a third forgets the least recently used', async () => {
    const [a, b, c] = [userQuery(4), userQuery(5), userQuery(6)];
    for (const query of [a, b, c]) {
      expect((await post(api, { query, variables: { id: 'x' }, extensions: persisted(sha256(query)) })).status).toBe(200);
    }
    expect(codeOf((await getByHash(api, sha256(a), { id: 'x' })).body)).toBe(PERSISTED_OPERATION_CODES.notFound);
    expect((await getByHash(api, sha256(b), { id: 'x' })).body).toEqual({ data: { user: null, n5: 'Query' }, extensions: { position: expect.any(String) } });
    expect((await getByHash(api, sha256(c), { id: 'x' })).body).toEqual({ data: { user: null, n6: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it('still runs operations sent in full, without a hash', async () => {
    expect(await post(api, { query: '{ __typename }' })).toEqual({ status: 200, body: { data: { __typename: 'Query' }, extensions: { position: expect.any(String) } } });
  });
});

describe('automatic persisted queries turned off', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp({ env: { AUTOMATIC_PERSISTED_QUERIES: 'false' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers a hash alone PERSISTED_QUERY_NOT_SUPPORTED (Apollo’s link then sends full queries), and runs full ones', async () => {
    const query = '{ __typename }';
    const hashOnly = await post(api, { extensions: persisted(sha256(query)) });
    expect(codeOf(hashOnly.body)).toBe(PERSISTED_OPERATION_CODES.notSupported);
    expect(hashOnly.body.errors?.[0]?.message).toBe('PersistedQueryNotSupported');
    expect(hashOnly.status).toBeLessThan(500);
    expect(await post(api, { query, extensions: persisted(sha256(query)) })).toEqual({ status: 200, body: { data: { __typename: 'Query' }, extensions: { position: expect.any(String) } } });
  });
});

describe('trusted documents', () => {
  const listedQuery = 'query UserById($id: ID!) { user(id: $id) { id username } }';
  const listedMutation =
    'mutation Create($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { id username } } } }';
  const listedSubscription = 'subscription Replay { userEvents(after: "0") { __typename userId } }';
  // GraphQL Code Generator's client preset hashes with SHA-1 unless told otherwise; ids are opaque to the server.
  const ids = {
    query: createHash('sha1').update(listedQuery).digest('hex'),
    mutation: createHash('sha1').update(listedMutation).digest('hex'),
    subscription: createHash('sha1').update(listedSubscription).digest('hex'),
  };
  let api: InProcessApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
    const manifest = join(dir, 'persisted-documents.json');
    writeFileSync(manifest, JSON.stringify({ [ids.query]: listedQuery, [ids.mutation]: listedMutation, [ids.subscription]: listedSubscription }, null, 2));
    api = await createInProcessApp({ env: { TRUSTED_DOCUMENTS_FILE: manifest } });
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a listed document sent by id (Apollo’s extension or `documentId`)', async () => {
    const input = { id: 'trusted-1', email: 'trusted-1@example.com', username: 'trusted_1' };
    const created = await post(api, { documentId: ids.mutation, variables: { input } });
    expect(created).toEqual({
      status: 200,
      body: { data: { createUser: { __typename: 'CreateUserSuccess', user: { id: 'User:trusted-1', username: 'trusted_1' } } } },
    });
    const read = await post(api, { extensions: persisted(ids.query), variables: { id: 'trusted-1' } });
    expect(read).toEqual({ status: 200, body: { data: { user: { id: 'User:trusted-1', username: 'trusted_1' } }, extensions: { position: expect.any(String) } } });
    expect((await getByHash(api, ids.query, { id: 'trusted-1' })).body).toEqual(read.body);
  });

  it('refuses any document sent as text, listed or not, and an unknown id, and writes nothing', async () => {
    const head = await api.system.store.headPosition();
    const input = { id: 'untrusted', email: 'untrusted@example.com', username: 'untrusted' };
    const refusals = [
      [await post(api, { query: listedMutation, variables: { input } }), PERSISTED_OPERATION_CODES.idRequired],
      [await post(api, { query: 'mutation { createUser(input: { id: "untrusted", email: "u@example.com", username: "untrusted" }) { __typename } }' }), PERSISTED_OPERATION_CODES.idRequired],
      [await post(api, { query: '{ __typename }' }), PERSISTED_OPERATION_CODES.idRequired],
      // An APQ registration would let any operation in: refused like any text.
      [await post(api, { query: '{ __typename }', extensions: persisted(sha256('{ __typename }')) }), PERSISTED_OPERATION_CODES.idRequired],
      [await post(api, { extensions: persisted(sha256('{ __typename }')) }), PERSISTED_OPERATION_CODES.notInList],
      [await post(api, {}), PERSISTED_OPERATION_CODES.idRequired],
    ] as const;
    for (const [{ status, body }, code] of refusals) {
      expect(codeOf(body), JSON.stringify(body)).toBe(code);
      expect(body.data ?? undefined).toBeUndefined();
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
    expect(await api.system.store.headPosition()).toEqual(head);
    expect((await post(api, { documentId: ids.query, variables: { id: 'untrusted' } })).body).toEqual({ data: { user: null }, extensions: { position: expect.any(String) } });
  });
});

describe('configuration', () => {
  const env = (extra: Record<string, string>) => ({ DATA_DIR: tmpdir(), ...extra });
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trusted-documents-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads an Apollo persisted query manifest too', () => {
    const path = file('apollo.json', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'abc', name: 'T', type: 'query', body: '{ __typename }' }] }));
    expect(loadConfig(env({ TRUSTED_DOCUMENTS_FILE: path })).TRUSTED_DOCUMENTS_FILE).toEqual(new Map([['abc', '{ __typename }']]));
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.json'), /cannot read a JSON manifest/],
    ['not JSON', () => file('bad.json', '{'), /cannot read a JSON manifest/],
    ['another shape', () => file('shape.json', '[1, 2]'), /expected \{ "<id>": "<document>" \}/],
    ['a document that does not parse', () => file('syntax.json', JSON.stringify({ x: '{ user(' })), /document x does not parse/],
  ])('refuses to start with %s as TRUSTED_DOCUMENTS_FILE', (_what, path, message) => {
    expect(() => loadConfig(env({ TRUSTED_DOCUMENTS_FILE: path() }))).toThrow(message);
    expect(() => loadConfig(env({ TRUSTED_DOCUMENTS_FILE: path() }))).toThrow(/TRUSTED_DOCUMENTS_FILE=/);
  });

  it('refuses AUTOMATIC_PERSISTED_QUERIES=true beside a manifest', () => {
    const path = file('ok.json', JSON.stringify({ a: '{ __typename }' }));
    expect(() => loadConfig(env({ TRUSTED_DOCUMENTS_FILE: path, AUTOMATIC_PERSISTED_QUERIES: 'true' }))).toThrow(/AUTOMATIC_PERSISTED_QUERIES.*would let any operation in/);
  });
});
