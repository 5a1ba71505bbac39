/**
 * Browser-facing protections and production defaults, against the real
 * server: CSRF prevention (yoga's plugin), the CORS allow-list, and
 * introspection / GraphiQL under NODE_ENV=production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('CSRF prevention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const get = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}?query=${encodeURIComponent(query)}`, { headers: { accept: GRAPHQL_RESPONSE, ...headers } });

  it('refuses a GET without the CSRF header with 403, before running anything', async () => {
    const response = await get('{ users { totalCount } }');
    expect(response.status).toBe(403);
    const body = (await response.json()) as { data?: unknown; errors: { message: string }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.message).toBe('Required CSRF header(s) not present');
  });

  it('serves a GET that carries the header', async () => {
    const response = await get('{ __typename }', { [CSRF_HEADER]: '1' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses a POST a cross-site form could send (%s) without the header: 403, nothing written',
    async (contentType) => {
      const before = await server.system.store.headPosition();
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': contentType, accept: GRAPHQL_RESPONSE },
        body: JSON.stringify({ query: 'mutation { createUser(input: { username: "csrf_victim", email: "csrf@example.com" }) { __typename } }' }),
      });
      expect(response.status).toBe(403);
      await response.body?.cancel();
      expect(await server.system.store.headPosition()).toBe(before);
    },
  );

  it('lets a JSON POST through without the header (a browser preflights it)', async () => {
    const { status, body } = await gql(server.url, '{ __typename }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });
});

describe('CORS', () => {
  it('is closed by default: no CORS headers for another origin', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      await response.body?.cancel();
    } finally {
      await server.stop();
    }
  });

  describe('with CORS_ORIGINS', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { CORS_ORIGINS: 'https://app.example, https://admin.example:8443' } });
    });
    afterAll(() => server.stop());

    const preflight = (origin: string) =>
      fetch(server.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });

    it.each(['https://app.example', 'https://admin.example:8443'])('answers an allowed origin’s preflight (%s)', async (origin) => {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    });

    it('gives an allowed origin’s request the header', async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://app.example' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it.each(['https://evil.example', 'null', 'https://app.example.evil.example', 'http://app.example'])(
      'gives another origin (%s) no CORS headers',
      async (origin) => {
        const response = await preflight(origin);
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('access-control-allow-headers')).toBeNull();
        await response.body?.cancel();
      },
    );
  });

  it('CORS_ORIGINS=* allows any origin, still without credentials', async () => {
    const server = await startTestServer({ env: { CORS_ORIGINS: '*' } });
    try {
      const response = await fetch(server.url, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe('NODE_ENV=production', () => {
  const html = async (server: TestServer) => (await fetch(server.url, { headers: { accept: 'text/html' } })).text();

  it('turns introspection, field suggestions and GraphiQL off', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const introspection = await gql(server.url, INTROSPECTION);
      expect(introspection.status).toBe(400);
      expect(introspection.body.errors?.[0]?.message).toMatch(/introspection/i);
      const typo = await gql(server.url, '{ user(id: "x") { usernam } }');
      expect(typo.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
      expect(await html(server)).not.toContain('renderYogaGraphiQL');
      // Ordinary operations are unaffected.
      expect((await gql(server.url, '{ users { totalCount } }')).body).toEqual({ data: { users: { totalCount: 0 } } });
    } finally {
      await server.stop();
    }
  });

  it('leaves them on when enabled explicitly', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production', INTROSPECTION: 'true', GRAPHIQL: 'true' } });
    try {
      expect((await gql(server.url, INTROSPECTION)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      expect(await html(server)).toContain('renderYogaGraphiQL');
    } finally {
      await server.stop();
    }
  });

  it('outside production both are on, and INTROSPECTION=false turns introspection off alone', async () => {
    const open = await startTestServer();
    const closed = await startTestServer({ env: { INTROSPECTION: 'false' } });
    try {
      expect((await gql(open.url, INTROSPECTION)).status).toBe(200);
      expect((await gql(open.url, '{ user(id: "x") { usernam } }')).body.errors?.[0]?.message).toMatch(/Did you mean "username"/);
      expect((await gql(closed.url, INTROSPECTION)).status).toBe(400);
      expect(await html(closed)).toContain('renderYogaGraphiQL');
    } finally {
      await open.stop();
      await closed.stop();
    }
  });
});
