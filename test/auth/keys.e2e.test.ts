/**
 * The other key sources: a PEM public key (RS256) and a JWKS endpoint
 * (ES256, served by a local HTTP server), plus the settings' own checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { loadConfig } from '../../src/server/config.js';
import { CreateUserDocument } from '../gql/graphql.js';
import { execute, expectType } from '../support/graphql.js';
import { sqliteSequence } from '../support/positions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { AUDIENCE, bearer, ISSUER, serveJwks, signToken } from './support.js';

const createAs = async (server: TestServer, token: string, name: string) => {
  const response = await execute(server.url, CreateUserDocument, { input: { id: name, username: name, email: `${name}@example.com` } }, { authorization: bearer(token) });
  return response;
};

describe('AUTH_JWT_PUBLIC_KEY (RS256)', () => {
  let server: TestServer;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let pem: string;
  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    pem = await exportSPKI(keys.publicKey);
    // Written with "\n" escapes, as deployment tools that cannot hold newlines pass it.
    server = await startTestServer({ env: { AUTH_JWT_PUBLIC_KEY: pem.trim().replaceAll('\n', '\\n') } });
  });
  afterAll(() => server.stop());

  it('accepts a token signed with the matching private key', async () => {
    const token = await signToken(keys.privateKey, 'rsa_user', { alg: 'RS256' });
    const { data } = await createAs(server, token, 'rsa_user');
    expect(expectType(data!.createUser, 'CreateUserSuccess').user.email).toBe('rsa_user@example.com');
  });

  it('refuses a token signed by another key pair', async () => {
    const other = await generateKeyPair('RS256');
    const { status } = await createAs(server, await signToken(other.privateKey, 'mallory', { alg: 'RS256' }), 'mallory');
    expect(status).toBe(401);
  });

  it('refuses an HS256 token that uses the public key as its secret (algorithm confusion)', async () => {
    const token = await signToken(new TextEncoder().encode(pem), 'mallory', { alg: 'HS256' });
    const { status, errors } = await createAs(server, token, 'mallory');
    expect(status).toBe(401);
    expect(errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(sqliteSequence(server.system.store.formatPosition(await server.system.store.headPosition()))).toBe(1); // only rsa_user
  });
});

describe('AUTH_JWKS_URL (ES256)', () => {
  let server: TestServer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    jwks = await serveJwks([{ ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' }]);
    server = await startTestServer({ env: { AUTH_JWKS_URL: jwks.url, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(async () => {
    await server.stop();
    await jwks.close();
  });

  it('fetches the key set and accepts a token signed with a published key', async () => {
    const token = await signToken(keys.privateKey, 'ec_user', { alg: 'ES256', kid: 'key-1' });
    const { data } = await createAs(server, token, 'ec_user');
    expectType(data!.createUser, 'CreateUserSuccess');
    expect(jwks.requests()).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token whose key is not in the set', async () => {
    const other = await generateKeyPair('ES256');
    const token = await signToken(other.privateKey, 'mallory', { alg: 'ES256', kid: 'key-2' });
    const { status, errors } = await createAs(server, token, 'mallory');
    expect(status).toBe(401);
    expect(errors?.[0]?.message).toMatch(/not signed by a known key/);
  });

  it('refuses an HS256 token naming a published kid (algorithm confusion)', async () => {
    const token = await signToken(new TextEncoder().encode('x'.repeat(32)), 'mallory', { alg: 'HS256', kid: 'key-1' });
    const { status } = await createAs(server, token, 'mallory');
    expect(status).toBe(401);
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const other = await generateKeyPair('ES256');
    const token = await signToken(other.privateKey, 'mallory', { alg: 'ES256', kid: 'key-1' });
    const { status, errors } = await createAs(server, token, 'mallory');
    expect(status).toBe(401);
    expect(errors?.[0]?.message).toMatch(/signature/);
  });
});

describe('AUTH_JWKS_URL while the key set cannot be fetched', () => {
  let server: TestServer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    jwks = await serveJwks([{ ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'ES256' }]);
    jwks.setDown(true);
    server = await startTestServer({ env: { AUTH_JWKS_URL: jwks.url } });
  });
  afterAll(async () => {
    await server.stop();
    await jwks.close();
  });

  it('answers 503 with Retry-After (not 401, not a masked 500), and recovers when it is back', async () => {
    const token = await signToken(keys.privateKey, 'ec_user', { alg: 'ES256', kid: 'key-1' });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: bearer(token) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('AUTH_UNAVAILABLE');

    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: bearer(token) } })));
      socket.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(1013);

    jwks.setDown(false);
    const { data } = await createAs(server, token, 'ec_user');
    expectType(data!.createUser, 'CreateUserSuccess');
  });
});

describe('authentication settings', () => {
  const secret = 's'.repeat(40);

  it('are off by default: the API is open', () => {
    const config = loadConfig({});
    expect([config.AUTH_JWT_SECRET, config.AUTH_JWT_PUBLIC_KEY, config.AUTH_JWKS_URL]).toEqual([undefined, undefined, undefined]);
  });

  it('refuse two key sources at once', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: 'https://idp.example/jwks.json' })).toThrow(/at most one of/);
  });

  it('refuse a short secret without echoing it', () => {
    let message = '';
    try {
      loadConfig({ AUTH_JWT_SECRET: 'hunter2-hunter2' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/AUTH_JWT_SECRET=\(hidden\): must be at least 32 characters/);
    expect(message).not.toContain('hunter2');
  });

  it('refuse a public key that is not PEM, and an issuer with no key to check it', () => {
    expect(() => loadConfig({ AUTH_JWT_PUBLIC_KEY: 'not a key' })).toThrow(/AUTH_JWT_PUBLIC_KEY/);
    expect(() => loadConfig({ AUTH_JWT_ISSUER: ISSUER })).toThrow(/need a key/);
  });
});
