/**
 * The response cache against a real server: answers are kept per document,
 * variables and viewer scope, and dropped by the projections exactly when an
 * event changes what they read. The read-model query counter tells a hit
 * (no query) from a miss.
 */
import { createSecretKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER, bearer, signToken } from '../auth/support.js';
import { scrape } from '../support/metrics.js';
import { parsed } from '../support/positions.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const USER = 'query ($id: ID!) { user(id: $id) { id username email version } }';
const USERS = 'query { users(first: 5) { totalCount edges { node { id username } } } }';
const CREATE = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { position user { id } } } }';
const UPDATE = 'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { ... on UpdateUserSuccess { position user { version } } } }';

type UserData = { user: { id: string; username: string; email: string | null; version: number } | null };
type UsersData = { users: { totalCount: number; edges: { node: { id: string; username: string } }[] } };

async function createUser(server: TestServer, username: string, headers: Record<string, string> = {}) {
  const { body } = await gql<{ createUser: { position: string; user: { id: string } } }>(
    server.url,
    CREATE,
    { input: { username, email: `${username}@example.com` } },
    headers,
  );
  return body.data!.createUser;
}

describe('response cache (on by default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers a repeated query without reading the read model, and counts hits and misses', async () => {
    const { user } = await createUser(server, 'cached_ada');
    const first = await gql<UserData>(server.url, USER, { id: user.id });
    const queriesAfterMiss = server.readModelQueries();
    const second = await gql<UserData>(server.url, USER, { id: user.id });
    expect(second.body.data).toEqual(first.body.data);
    expect(server.readModelQueries()).toBe(queriesAfterMiss);
    const metrics = await scrape(server.url);
    expect(metrics.value('cqrs_response_cache_hits_total')).toBeGreaterThanOrEqual(1);
    expect(metrics.value('cqrs_response_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(metrics.value('cqrs_response_cache_entries')).toBeGreaterThanOrEqual(1);
  });

  it('drops a user’s answers when the projection applies an update, not before', async () => {
    const { user } = await createUser(server, 'cached_bob');
    await gql<UserData>(server.url, USER, { id: user.id });
    await gql(server.url, UPDATE, { input: { id: user.id, username: 'cached_bobby' } });
    const after = await gql<UserData>(server.url, USER, { id: user.id });
    expect(after.body.data?.user).toMatchObject({ username: 'cached_bobby', version: 2 });
    const metrics = await scrape(server.url);
    expect(metrics.value('cqrs_response_cache_invalidations_total')).toBeGreaterThanOrEqual(1);
  });

  it('drops lists when a user is created, and a null lookup when that user appears', async () => {
    const id = `later-${Date.now()}`;
    const missing = await gql<UserData>(server.url, USER, { id });
    expect(missing.body.data?.user).toBeNull();
    const before = await gql<UsersData>(server.url, USERS);
    await gql(server.url, CREATE, { input: { id, username: 'cached_cy', email: 'cy@example.com' } });
    const found = await gql<UserData>(server.url, USER, { id });
    expect(found.body.data?.user?.username).toBe('cached_cy');
    const after = await gql<UsersData>(server.url, USERS);
    expect(after.body.data!.users.totalCount).toBe(before.body.data!.users.totalCount + 1);
  });

  it('never caches mutations or time travel', async () => {
    const input = { username: 'cached_dee', email: 'dee@example.com' };
    const first = await gql<{ createUser: { position?: string } }>(server.url, CREATE, { input });
    const again = await gql<{ createUser: { __typename?: string; position?: string } }>(server.url, CREATE, { input });
    // The second is really executed: the email is taken now.
    expect(again.body.data?.createUser).not.toEqual(first.body.data?.createUser);
    const { user } = await createUser(server, 'cached_eve');
    const asOf = 'query ($id: ID!) { user(id: $id, asOf: { version: 1 }) { username } }';
    await gql(server.url, asOf, { id: user.id });
    const queries = server.readModelQueries();
    await gql(server.url, USER, { id: user.id });
    await gql(server.url, USER, { id: user.id });
    expect(server.readModelQueries()).toBe(queries + 1);
  });

  it('says the position every answer reflects, in extensions and a header', async () => {
    const { position, user } = await createUser(server, 'cached_fay');
    for (let i = 0; i < 2; i++) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: USER, variables: { id: user.id } }),
      });
      const body = (await response.json()) as { extensions?: { position?: string } };
      expect(body.extensions?.position).toBe(response.headers.get('x-position'));
      // The mutation waited for its projection: every later answer is at least that new.
      expect(parsed(server.system.store, body.extensions!.position!) >= parsed(server.system.store, position)).toBe(true);
    }
  });
});

describe('response cache and viewer scope', () => {
  const SECRET = 'response-cache-test-secret-that-is-long-enough';
  const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(() => server.stop());

  it('never serves one viewer’s emails to another', async () => {
    const id = 'scoped-user';
    const owner = bearer(await signToken(key, id));
    await gql(server.url, CREATE, { input: { id, username: 'scoped', email: 'scoped@example.com' } }, { authorization: owner });
    const asOwner = await gql<UserData>(server.url, USER, { id }, { authorization: owner });
    expect(asOwner.body.data?.user?.email).toBe('scoped@example.com');
    const asAnonymous = await gql<UserData>(server.url, USER, { id });
    expect(asAnonymous.body.data?.user?.email).toBeNull();
    const asOther = await gql<UserData>(server.url, USER, { id }, { authorization: bearer(await signToken(key, 'someone-else')) });
    expect(asOther.body.data?.user?.email).toBeNull();
    const asOwnerAgain = await gql<UserData>(server.url, USER, { id }, { authorization: owner });
    expect(asOwnerAgain.body.data?.user?.email).toBe('scoped@example.com');
  });

  it('answers a hit only while its token is valid: an expired one gets 401, not the cached answer', async () => {
    const id = 'expiring-user';
    await gql(server.url, CREATE, { input: { id, username: 'expiring', email: 'expiring@example.com' } }, { authorization: bearer(await signToken(key, id)) });
    const shortLived = bearer(await signToken(key, id, { expiresIn: 2 }));
    const queries = server.readModelQueries();
    for (let i = 0; i < 2; i++) {
      const { status, body } = await gql<UserData>(server.url, USER, { id }, { authorization: shortLived });
      expect(status).toBe(200);
      expect(body.data?.user?.email).toBe('expiring@example.com');
    }
    expect(server.readModelQueries()).toBe(queries + 1);
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const hits = (await scrape(server.url)).value('cqrs_response_cache_hits_total');
    const expired = await gql<UserData>(server.url, USER, { id }, { authorization: shortLived });
    expect(expired.status).toBe(401);
    expect(expired.body.data ?? null).toBeNull();
    // Found but refused: not a hit.
    expect((await scrape(server.url)).value('cqrs_response_cache_hits_total')).toBe(hits);
  });

  it('still refuses a bad token with 401 when an answer is cached for anonymous', async () => {
    await gql(server.url, USERS);
    const refused = await gql(server.url, USERS, undefined, { authorization: 'Bearer not-a-token' });
    expect(refused.status).toBe(401);
  });
});

describe('response cache hits, answered in front of yoga', () => {
  const ORIGIN = 'https://app.example';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { CORS_ORIGINS: ORIGIN } });
  });
  afterAll(() => server.stop());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const comparable = (response: Response) =>
    [...response.headers].filter(([name]) => !['date', 'x-request-id', 'connection', 'keep-alive'].includes(name));

  it('sends the headers and body the miss sent, CORS included, with a request id of its own', async () => {
    const { user } = await createUser(server, 'front_door');
    const request = { query: USER, variables: { id: user.id } };
    const miss = await post(request, { origin: ORIGIN, 'x-request-id': 'miss-1' });
    const queries = server.readModelQueries();
    const hit = await post(request, { origin: ORIGIN, 'x-request-id': 'hit-1' });
    expect(server.readModelQueries()).toBe(queries);
    expect(hit.status).toBe(200);
    expect(comparable(hit)).toEqual(comparable(miss));
    expect(hit.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(hit.headers.get('x-request-id')).toBe('hit-1');
    expect(await hit.text()).toBe(await miss.text());
  });

  it('keys on what changes the answer: the origin (CORS) and Accept (an SSE answer is never kept as JSON)', async () => {
    const request = { query: USERS };
    await post(request, { origin: ORIGIN });
    const elsewhere = await post(request, { origin: 'https://evil.example' });
    expect(elsewhere.headers.get('access-control-allow-origin')).not.toBe(ORIGIN);
    for (let i = 0; i < 2; i++) {
      const streamed = await post(request, { accept: 'text/event-stream' });
      expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await streamed.text()).toMatch(/^event: next/m);
    }
  });

  it('hands a request to yoga when its x-min-position is not reached yet, and answers a reached one', async () => {
    const { position, user } = await createUser(server, 'front_door_position');
    const request = { query: USER, variables: { id: user.id } };
    await post(request);
    const queries = server.readModelQueries();
    const reached = await post(request, { 'x-min-position': position });
    expect(reached.status).toBe(200);
    expect(server.readModelQueries()).toBe(queries);
    const ahead = await post(request, { 'x-min-position': 'not-a-position' });
    expect(ahead.status).toBe(400);
  });

  it('leaves batches to yoga, uncached', async () => {
    const batch = [{ query: USERS }, { query: '{ users(first: 1) { totalCount } }' }];
    for (let i = 0; i < 2; i++) {
      const queries = server.readModelQueries();
      const response = await post(batch);
      expect(response.status).toBe(200);
      expect(((await response.json()) as unknown[]).length).toBe(2);
      expect(server.readModelQueries()).toBeGreaterThan(queries);
    }
  });
});

describe('response cache nearly full', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RESPONSE_CACHE_MAX_BYTES: String(64 * 1024) } });
  });
  afterAll(() => server.stop());

  /** A read-model query counted for this request: a miss. */
  const missed = async (id: string) => {
    const queries = server.readModelQueries();
    const { body } = await gql<UserData>(server.url, USER, { id });
    expect(body.data?.user?.id).toBe(id);
    return server.readModelQueries() > queries;
  };

  it('once nearly full, keeps a request only when asked more often than the answer it would displace', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 80; i++) ids.push((await createUser(server, `full_${i}`)).user.id);
    // Each answer is kept on its first ask while there is room, until the cache is nearly full.
    for (const id of ids.slice(0, 70)) await missed(id);
    const before = await scrape(server.url);
    expect(before.value('cqrs_response_cache_declined_total')).toBeGreaterThan(0);
    const declined = before.value('cqrs_response_cache_declined_total')!;
    const fresh = ids[75]!;
    expect(await missed(fresh)).toBe(true); // first ask: computed, not kept
    expect(await missed(fresh)).toBe(true); // second ask: asked more often than the oldest answer (asked once), so kept
    expect(await missed(fresh)).toBe(false); // a hit
    const after = await scrape(server.url);
    expect(after.value('cqrs_response_cache_declined_total')).toBe(declined + 1);
    expect(after.value('cqrs_response_cache_bytes')).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('response cache off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RESPONSE_CACHE: 'false' } });
  });
  afterAll(() => server.stop());

  it('runs every query, and still gives positions', async () => {
    const { user } = await createUser(server, 'uncached_gus');
    const queries = server.readModelQueries();
    const first = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: USER, variables: { id: user.id } }),
    });
    expect(first.headers.get('x-position')).toMatch(/:/);
    await gql(server.url, USER, { id: user.id });
    expect(server.readModelQueries()).toBe(queries + 2);
    expect((await scrape(server.url)).value('cqrs_response_cache_hits_total')).toBeUndefined();
  });
});

describe('HTTP caching of GET queries', () => {
  const SECRET = 'http-caching-test-secret-that-is-long-enough';
  const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(() => server.stop());

  const get = (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${server.url}?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}`, {
      headers: { accept: 'application/graphql-response+json', ...headers },
    });

  it('answers 304 to the ETag of the current answer, and 200 with a new ETag once the answer changed', async () => {
    const id = 'etag-user';
    const owner = bearer(await signToken(key, id));
    await gql(server.url, CREATE, { input: { id, username: 'etag_one', email: 'etag@example.com' } }, { authorization: owner });
    const query = 'query ($id: ID!) { user(id: $id) { username version } }';
    const first = await get(query, { id });
    const etag = first.headers.get('etag');
    expect(first.status).toBe(200);
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toBe('public, no-cache');
    expect(first.headers.get('vary')).toMatch(/Authorization/);

    const unchanged = await get(query, { id }, { 'if-none-match': etag! });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    expect(unchanged.headers.get('etag')).toBe(etag);

    await gql(server.url, UPDATE, { input: { id, username: 'etag_two' } }, { authorization: owner });
    const changed = await get(query, { id }, { 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as { data: UserData }).data.user?.username).toBe('etag_two');
  });

  it('gives the same ETag cached or not, so instances and restarts agree', async () => {
    const query = '{ users(first: 3) { totalCount } }';
    const miss = await get(query, {});
    const hit = await get(query, {});
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'));
  });

  it('never puts a shared-cache header on an answer that depends on the token', async () => {
    const id = 'private-user';
    const owner = bearer(await signToken(key, id));
    await gql(server.url, CREATE, { input: { id, username: 'private_one', email: 'private@example.com' } }, { authorization: owner });
    for (let i = 0; i < 2; i++) {
      // The owner sees their email: nothing may store it.
      const own = await get('query ($id: ID!) { user(id: $id) { email } }', { id }, { authorization: owner });
      expect(own.headers.get('cache-control')).toBe('no-store');
      // Same token, no personal field: private to the browser.
      const plain = await get('query ($id: ID!) { user(id: $id) { username } }', { id }, { authorization: owner });
      expect(plain.headers.get('cache-control')).toBe('private, no-cache');
    }
    const other = await get('query ($id: ID!) { user(id: $id) { email } }', { id }, { authorization: bearer(await signToken(key, 'another')) });
    expect(other.headers.get('cache-control')).toBe('private, no-cache');
  });

  it('sends no ETag and no Cache-Control with POST answers', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('cache-control')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
  });
});
