/**
 * The CSRF rule as a real browser client meets it over a socket: an
 * EventSource, which cannot set headers, still receives a GET subscription.
 * The rest of the browser-facing protections are in security.int.test.ts.
 */
import { EventSource } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signToken } from '../auth/support.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

describe('CSRF prevention: requests that carry ambient credentials need the header', () => {
  const SECRET = 'csrf-test-secret-of-at-least-32-characters';
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET } });
    token = await signToken(new TextEncoder().encode(SECRET), 'csrf-user');
  });
  afterAll(() => server.stop());

  it('streams a GET subscription to a real EventSource, which cannot set headers', async () => {
    const created = await gql<{ createUser: { user: { id: string } } }>(
      server.url,
      'mutation { createUser(input: { username: "sse_reader", email: "sse@example.com" }) { ... on CreateUserSuccess { user { id } } } }',
      undefined,
      { authorization: bearer(token) },
    );
    const userId = created.body.data?.createUser.user.id;
    expect(userId).toBeDefined();
    // From the start of the log, so the event is there whenever the stream begins.
    const query = 'subscription { userEvents(after: "0") { __typename userId } }';
    const source = new EventSource(`${server.url}?query=${encodeURIComponent(query)}`);
    try {
      const first = await new Promise<unknown>((resolve, reject) => {
        source.addEventListener('next', (event) => resolve(JSON.parse((event as MessageEvent<string>).data)));
        source.onerror = () => reject(new Error(`EventSource failed (readyState ${source.readyState})`));
      });
      expect(first).toEqual({ data: { userEvents: { __typename: 'UserCreated', userId } } });
    } finally {
      source.close();
    }
  });
});
