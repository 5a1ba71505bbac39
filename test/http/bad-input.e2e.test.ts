/**
 * The one bad-input case that needs the real server and its SQLite files: an
 * unexpected error from the store is masked, writes nothing, and the retry
 * succeeds. The client's mistakes are in bad-input.int.test.ts.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_START } from '../support/positions.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserSuccess { user { id username email version } }
      ... on ValidationError { message fields { field message } }
      ... on Error { message }
    }
  }
`;

type CreateResult = { __typename: string; user?: { id: string; username: string; email: string; version: number } };

describe('an unexpected error', () => {
  it('(event store locked by another process) is masked as "Unexpected error.", writes nothing, and the retry succeeds', async () => {
    const input = { username: 'locked', email: 'locked@example.com', idempotencyKey: 'locked-1' };
    // A real fault, not a mock: a second connection holds the write lock on the
    // server's event log, so the append fails with SQLITE_BUSY once the busy timeout ends.
    const other = new Database(join(server.dataDir, 'events.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
        body: JSON.stringify({ query: CREATE, variables: { input } }),
      });
      const text = await response.text();
      // `data` is null (createUser is non-null): the spec recommends 200 for a response with a data entry.
      expect(response.status).toBe(200);
      expect(JSON.parse(text)).toEqual({
        data: null,
        errors: [expect.objectContaining({ message: 'Unexpected error.', path: ['createUser'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
      });
      expect(text).not.toMatch(/SQLITE|locked|busy|stack/i);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }

    // The failed attempt left no event and no idempotency record: the same key now succeeds.
    const { body } = await gql<{ createUser: CreateResult }>(server.url, CREATE, { input });
    expect(body.errors).toBeUndefined();
    expect(body.data?.createUser.__typename).toBe('CreateUserSuccess');
    expect(body.data?.createUser.user?.version).toBe(1);

    // The event log itself: the retry's UserCreated and nothing from the failed attempt.
    const events = await server.system.store.readAll({ after: LOG_START, limit: 1000 });
    expect(events.map((e) => e.type)).toEqual(['UserCreated']);
  });
});
