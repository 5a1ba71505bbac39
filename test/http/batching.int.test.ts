/**
 * Batched requests (a JSON array of operations, as Apollo's BatchHttpLink
 * sends), through the app in process (`app.fetch`): answered with an array of results; a
 * batch over MAX_BATCH_SIZE is refused whole before anything in it runs; each
 * operation meets the operation limits as if it had been sent alone.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_CODES } from '../../src/server/batching.js';
import { settings } from '../../src/server/config.js';
import { LIMIT_CODES } from '../../src/server/operation-limits.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

type Result = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function postBatch(api: InProcessApp, payload: unknown, accept = 'application/graphql-response+json'): Promise<{ status: number; body: unknown }> {
  const response = await api.fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(payload) });
  return { status: response.status, body: await response.json() };
}

const defaultOf = (name: keyof typeof settings) => Number(settings[name].schema.safeParse(undefined).data);
const MAX_BATCH_SIZE = defaultOf('MAX_BATCH_SIZE');

const createUser = (n: number) => ({
  query: 'mutation Create($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } } }',
  variables: { input: { id: `batch-${n}`, email: `batch-${n}@example.com`, username: `batch_${n}` } },
});
const readUser = (id: string) => ({ query: 'query Read($id: ID!) { user(id: $id) { id username } }', variables: { id } });
// armor does not count aliases of `__typename`; a real field it does.
const aliases = (count: number) => Array.from({ length: count }, (_, i) => `a${i}: user(id: "u") { id }`).join(' ');

describe('batching (on by default)', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers an array of operations with an array of their results, in order', async () => {
    const { status, body } = await postBatch(api, [createUser(1), { query: '{ __typename }' }, readUser('nobody')]);
    expect(status).toBe(200);
    expect(body).toEqual([
      { data: { createUser: { __typename: 'CreateUserSuccess', user: { id: 'User:batch-1' } } } },
      { data: { __typename: 'Query' }, extensions: { position: expect.any(String) } },
      { data: { user: null }, extensions: { position: expect.any(String) } },
    ]);
    const [read] = (await postBatch(api, [readUser('batch-1')])).body as Result[];
    expect(read).toEqual({ data: { user: { id: 'User:batch-1', username: 'batch_1' } }, extensions: { position: expect.any(String) } });
  });

  it(`refuses a batch over MAX_BATCH_SIZE (${MAX_BATCH_SIZE}) whole, with 413 and a code, before any of it runs`, async () => {
    const head = await api.system.store.headPosition();
    const batch = Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => createUser(100 + i));
    const { status, body } = await postBatch(api, batch);
    expect(status).toBe(413);
    const { errors } = body as Result;
    expect(errors?.[0]?.extensions).toEqual({ code: BATCH_CODES.tooLarge, limit: MAX_BATCH_SIZE });
    expect(await api.system.store.headPosition()).toEqual(head);
    expect((await postBatch(api, [readUser('batch-100'), readUser(`batch-${100 + MAX_BATCH_SIZE}`)])).body).toEqual([
      { data: { user: null }, extensions: { position: expect.any(String) } },
      { data: { user: null }, extensions: { position: expect.any(String) } },
    ]);
  });

  it('runs a batch of exactly MAX_BATCH_SIZE operations', async () => {
    const { status, body } = await postBatch(api, Array.from({ length: MAX_BATCH_SIZE }, () => ({ query: '{ __typename }' })));
    expect(status).toBe(200);
    expect(body).toEqual(Array.from({ length: MAX_BATCH_SIZE }, () => ({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } })));
  });

  it('checks every operation against the limits as if it had been sent alone', async () => {
    const maxAliases = defaultOf('MAX_ALIASES');
    const within = { query: `{ ${aliases(maxAliases)} }` };
    const over = { query: `{ ${aliases(maxAliases + 1)} }` };
    const tooDeep = { query: `{ users { edges { node { ${'... on User { '.repeat(defaultOf('MAX_DEPTH'))}id${' }'.repeat(defaultOf('MAX_DEPTH'))} } } } }` };
    // Two operations at the alias limit pass together: the limit is per operation, not per request.
    const { body } = await postBatch(api, [within, over, tooDeep, within, { query: '{ __typename }' }]);
    const results = body as Result[];
    expect(results).toHaveLength(5);
    expect(Object.keys(results[0]?.data ?? {})).toHaveLength(maxAliases);
    expect(results[1]?.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxAliases);
    expect(results[1]?.data).toBeUndefined();
    expect(results[2]?.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxDepth);
    expect(Object.keys(results[3]?.data ?? {})).toHaveLength(maxAliases);
    expect(results[4]).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it('handles persisted queries per operation inside a batch', async () => {
    const query = '{ batchedByHash: __typename }';
    const hash = createHash('sha256').update(query).digest('hex');
    const byHash = { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
    const first = (await postBatch(api, [byHash, { query: '{ __typename }' }])).body as Result[];
    expect(first[0]?.errors?.[0]?.extensions?.['code']).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(first[1]).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
    await postBatch(api, [{ query, ...byHash }]);
    expect((await postBatch(api, [byHash, byHash])).body).toEqual([{ data: { batchedByHash: 'Query' }, extensions: { position: expect.any(String) } }, { data: { batchedByHash: 'Query' }, extensions: { position: expect.any(String) } }]);
  });

  it('refuses an empty batch with 400 and a code', async () => {
    const { status, body } = await postBatch(api, []);
    expect(status).toBe(400);
    expect((body as Result).errors?.[0]?.extensions?.['code']).toBe(BATCH_CODES.empty);
  });

  it('answers each operation of a batch on its own: one bad operation fails alone', async () => {
    const { body } = await postBatch(api, [{ query: '{ nope }' }, { query: 'mutation { __typename }', operationName: 'Missing' }, 'not an operation', { query: '{ __typename }' }]);
    const results = body as Result[];
    expect(results).toHaveLength(4);
    for (const failed of results.slice(0, 3)) {
      expect(failed.errors?.length, JSON.stringify(failed)).toBeGreaterThan(0);
      expect(failed.errors?.[0]?.message).not.toMatch(/unexpected/i);
    }
    expect(results[3]).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });
});

describe('batching turned off (MAX_BATCH_SIZE=0)', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp({ env: { MAX_BATCH_SIZE: '0' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('refuses any array with 400 and a code, and runs none of it', async () => {
    const head = await api.system.store.headPosition();
    const { status, body } = await postBatch(api, [createUser(1)]);
    expect(status).toBe(400);
    expect((body as Result).errors?.[0]?.extensions?.['code']).toBe(BATCH_CODES.notSupported);
    expect(await api.system.store.headPosition()).toEqual(head);
  });
});
