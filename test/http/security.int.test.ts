/**
 * Browser-facing protections and production defaults, through the app in
 * process (`app.fetch`): CSRF prevention (src/server/csrf.ts), CORS, and
 * introspection / GraphiQL under NODE_ENV=production. A real EventSource over
 * a socket is in security.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { ConfigError, DEFAULT_CORS_ALLOWED_HEADERS, loadConfig } from '../../src/server/config.js';
import { bearer, signToken } from '../auth/support.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('CSRF prevention: requests that carry ambient credentials need the header', () => {
  const SECRET = 'csrf-test-secret-of-at-least-32-characters';
  let api: InProcessApp;
  let token: string;
  beforeAll(async () => {
    api = await createInProcessApp({ env: { AUTH_JWT_SECRET: SECRET } });
    token = await signToken(new TextEncoder().encode(SECRET), 'csrf-user');
  });
  afterAll(() => api.close());

  const get = (query: string, headers: Record<string, string> = {}) =>
    api.fetch(`${api.url}?query=${encodeURIComponent(query)}`, { headers: { accept: GRAPHQL_RESPONSE, ...headers } });

  const expectRefused = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    const body = (await response.json()) as { data?: unknown; errors: { message: string; extensions?: { code?: unknown } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([expect.objectContaining({ extensions: { code } })]);
    return body.errors[0]!.message;
  };

  it('serves an anonymous GET query (urql, Apollo Client with useGETForQueries)', async () => {
    const response = await get('{ users { totalCount } }');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { users: { totalCount: 0 } }, extensions: { position: expect.any(String) } });
  });

  it('serves a GET query with a bearer token, which no browser attaches by itself', async () => {
    const response = await get('{ __typename }', { authorization: bearer(token) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it.each([
    ['a cookie', { cookie: 'session=abc' }],
    ['HTTP Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a cookie, from another site', { cookie: 'session=abc', 'sec-fetch-site': 'cross-site' }],
    ['a cookie, from a sibling subdomain', { cookie: 'session=abc', 'sec-fetch-site': 'same-site' }],
  ])('refuses a GET that carries %s but not the header: 403 CSRF_PREVENTED, before running anything', async (_label, headers) => {
    const queriesBefore = api.readModelQueries();
    const message = await expectRefused(await get('{ users { totalCount } }', headers), 403, 'CSRF_PREVENTED');
    expect(message).toContain(CSRF_HEADER);
    expect(api.readModelQueries()).toBe(queriesBefore);
  });

  it.each([
    ['the CSRF header', { cookie: 'session=abc', [CSRF_HEADER]: '1' }],
    ["Apollo's apollo-require-preflight", { cookie: 'session=abc', 'apollo-require-preflight': 'true' }],
    ['Sec-Fetch-Site: same-origin (the API\'s own pages)', { cookie: 'session=abc', 'sec-fetch-site': 'same-origin' }],
    ['Sec-Fetch-Site: none (a URL the user typed)', { cookie: 'session=abc', 'sec-fetch-site': 'none' }],
  ])('serves a GET with a cookie and %s', async (_label, headers) => {
    const response = await get('{ __typename }', headers);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it('refuses a GET subscription that carries a cookie (EventSource withCredentials from another site)', async () => {
    const response = await get('subscription { userEvents { userId } }', { accept: 'text/event-stream', cookie: 'session=abc', 'sec-fetch-site': 'cross-site' });
    // An EventSource treats any status but 200 as fatal and does not reconnect; an SSE client reads the error event.
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = await response.text();
    expect(events).toContain('"code":"CSRF_PREVENTED"');
    expect(events).toContain('event: complete');
  });

  it('never runs a mutation sent by GET, with or without credentials: 405 with a code, nothing written', async () => {
    const before = await api.system.store.headPosition();
    const mutation = 'mutation { createUser(input: { username: "csrf_get", email: "csrf_get@example.com" }) { __typename } }';
    const response = await get(mutation, { authorization: bearer(token) });
    expect(response.headers.get('allow')).toBe('POST');
    await expectRefused(response, 405, 'BAD_REQUEST');
    await expectRefused(await get(mutation, { cookie: 'session=abc' }), 403, 'CSRF_PREVENTED');
    expect(await api.system.store.headPosition()).toBe(before);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses a POST a cross-site form could send (%s) without the header, even with no credentials: 403, nothing written',
    async (contentType) => {
      const before = await api.system.store.headPosition();
      const response = await api.fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': contentType, accept: GRAPHQL_RESPONSE },
        body: JSON.stringify({ query: 'mutation { createUser(input: { username: "csrf_victim", email: "csrf@example.com" }) { __typename } }' }),
      });
      await expectRefused(response, 403, 'CSRF_PREVENTED');
      expect(await api.system.store.headPosition()).toBe(before);
    },
  );

  it('serves a form POST that carries the header', async () => {
    const response = await api.fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: GRAPHQL_RESPONSE, [CSRF_HEADER]: '1' },
      body: new URLSearchParams({ query: '{ __typename }' }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it('lets a JSON POST through without the header, cookie or not (a browser preflights it)', async () => {
    const { status, body } = await api.gql('{ __typename }', undefined, { cookie: 'session=abc' });
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });
});

describe('CORS', () => {
  it('is closed by default: no CORS headers for another origin', async () => {
    const api = await createInProcessApp();
    try {
      const response = await api.fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      // Nothing depends on the origin, so caches need not key on it.
      expect(response.headers.get('vary')).toBeNull();
      await response.body?.cancel();
    } finally {
      await api.close();
    }
  });

  describe('with CORS_ORIGINS', () => {
    let api: InProcessApp;
    beforeAll(async () => {
      api = await createInProcessApp({ env: { CORS_ORIGINS: 'https://app.example, https://admin.example:8443' } });
    });
    afterAll(() => api.close());

    const preflight = (origin: string) =>
      api.fetch(api.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });

    const allowedHeaders = (response: Response) => response.headers.get('access-control-allow-headers')?.split(/,\s*/) ?? [];

    it.each(['https://app.example', 'https://admin.example:8443'])('answers an allowed origin’s preflight (%s)', async (origin) => {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(allowedHeaders(response)).toEqual([...DEFAULT_CORS_ALLOWED_HEADERS]);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(response.headers.get('access-control-max-age')).toBe('7200');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('vary')).toBe('Origin');
    });

    it('lets the headers Apollo Client, urql, Relay, tracing and the CSRF rule use through a preflight', async () => {
      const wanted = ['apollographql-client-name', 'apollographql-client-version', 'traceparent', 'baggage', 'x-request-id', 'authorization', 'content-type', CSRF_HEADER];
      const response = await api.fetch(api.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': wanted.join(',') },
      });
      expect(allowedHeaders(response)).toEqual(expect.arrayContaining(wanted));
    });

    it('gives an allowed origin’s request the header, and lets it read x-request-id', async () => {
      const response = await api.fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://app.example', 'x-request-id': 'cors-req-1' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id, x-position');
      expect(response.headers.get('x-request-id')).toBe('cors-req-1');
      expect(response.headers.get('vary')).toBe('Origin');
      expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
    });

    it('answers a cross-origin GET query (urql’s default) with CORS headers, no CSRF header needed', async () => {
      const response = await api.fetch(`${api.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { origin: 'https://admin.example:8443', accept: GRAPHQL_RESPONSE, 'sec-fetch-site': 'cross-site' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example:8443');
      expect(await response.json()).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
    });

    it.each(['https://evil.example', 'null', 'https://app.example.evil.example', 'http://app.example'])(
      'gives another origin (%s) no CORS headers, and says the answer depends on the origin',
      async (origin) => {
        const response = await preflight(origin);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('access-control-allow-headers')).toBeNull();
        expect(response.headers.get('access-control-expose-headers')).toBeNull();
        expect(response.headers.get('vary')).toBe('Origin');
        await response.body?.cancel();
      },
    );

    it('marks a request without an Origin as varying by origin too (a shared cache must not reuse it for a page)', async () => {
      const { status } = await api.gql('{ __typename }');
      expect(status).toBe(200);
      const response = await api.fetch(`${api.url}?query=${encodeURIComponent('{ __typename }')}`);
      expect(response.headers.get('vary')).toBe('Origin, Authorization');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await response.body?.cancel();
    });
  });

  it('takes allowed and exposed headers and the preflight max-age from the configuration', async () => {
    const api = await createInProcessApp({
      env: {
        CORS_ORIGINS: 'https://app.example',
        CORS_ALLOWED_HEADERS: 'Content-Type, Authorization, X-Tenant',
        CORS_EXPOSED_HEADERS: 'x-request-id, retry-after',
        CORS_MAX_AGE_SECONDS: '60',
      },
    });
    try {
      const preflight = await api.fetch(api.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-tenant' },
      });
      expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, authorization, x-tenant');
      expect(preflight.headers.get('access-control-max-age')).toBe('60');
      const response = await api.fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://app.example', 'x-tenant': 't1' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
      await response.body?.cancel();
    } finally {
      await api.close();
    }
  });

  it('CORS_MAX_AGE_SECONDS=0 sends no Access-Control-Max-Age', async () => {
    const api = await createInProcessApp({ env: { CORS_ORIGINS: 'https://app.example', CORS_MAX_AGE_SECONDS: '0' } });
    try {
      const response = await api.fetch(api.url, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('access-control-max-age')).toBeNull();
    } finally {
      await api.close();
    }
  });

  it.each([
    ['CORS_ALLOWED_HEADERS', 'content-type, bad header'],
    ['CORS_EXPOSED_HEADERS', ' , '],
    ['CORS_MAX_AGE_SECONDS', '-1'],
  ])('refuses a bad %s at start', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
  });

  it('CORS_ORIGINS=* allows any origin, still without credentials', async () => {
    const api = await createInProcessApp({ env: { CORS_ORIGINS: '*' } });
    try {
      const response = await api.fetch(api.url, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('vary')).toBe('Origin');
    } finally {
      await api.close();
    }
  });
});

describe('NODE_ENV=production', () => {
  const html = async (app: InProcessApp) => (await app.fetch(app.url, { headers: { accept: 'text/html' } })).text();

  it('turns introspection, field suggestions and GraphiQL off', async () => {
    const api = await createInProcessApp({ env: { NODE_ENV: 'production' } });
    try {
      const introspection = await api.gql(INTROSPECTION);
      expect(introspection.status).toBe(400);
      expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);
      const typo = await api.gql('{ user(id: "x") { usernam } }');
      expect(typo.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
      expect(await html(api)).not.toContain('renderYogaGraphiQL');
      // Ordinary operations are unaffected.
      expect((await api.gql('{ users { totalCount } }')).body).toEqual({ data: { users: { totalCount: 0 } }, extensions: { position: expect.any(String) } });
    } finally {
      await api.close();
    }
  });

  it('leaves them on when enabled explicitly', async () => {
    const api = await createInProcessApp({ env: { NODE_ENV: 'production', INTROSPECTION: 'true', GRAPHIQL: 'true' } });
    try {
      expect((await api.gql(INTROSPECTION)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } }, extensions: { position: expect.any(String) } });
      expect(await html(api)).toContain('renderYogaGraphiQL');
    } finally {
      await api.close();
    }
  });

  it('outside production both are on, and INTROSPECTION=false turns introspection off alone', async () => {
    const open = await createInProcessApp();
    const closed = await createInProcessApp({ env: { INTROSPECTION: 'false' } });
    try {
      expect((await open.gql(INTROSPECTION)).status).toBe(200);
      expect((await open.gql('{ user(id: "x") { usernam } }')).body.errors?.[0]?.message).toMatch(/Did you mean "username"/);
      expect((await closed.gql(INTROSPECTION)).status).toBe(400);
      expect(await html(closed)).toContain('renderYogaGraphiQL');
    } finally {
      await open.close();
      await closed.close();
    }
  });
});
