/**
 * Usernames and emails reach the event log only sealed (issue 21, erasure by
 * crypto-shredding): through the real server (SQLite, and PostgreSQL in the
 * `postgres` project), the stored events and uniqueness claims hold none of
 * them in plaintext, while the API answers with them as written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const onPostgres = process.env['TEST_STORE'] === 'postgres';

let server: TestServer;
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
beforeAll(async () => {
  database = onPostgres ? await createTestDatabase('at_rest') : undefined;
  server = await startTestServer(database ? { env: { DATABASE_URL: database.url } } : {});
});
afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

/** What the store keeps as text: every event's data and every claimed value. */
async function storedText(): Promise<string> {
  if (database) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const events = await client.query<{ text: string }>('SELECT data::text AS text FROM events');
      const claims = await client.query<{ text: string }>('SELECT value AS text FROM unique_values');
      const outcomes = await client.query<{ text: string }>('SELECT outcome::text AS text FROM idempotency_records');
      return [...events.rows, ...claims.rows, ...outcomes.rows].map((row) => row.text).join('\n');
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(server.dataDir, 'events.db'), { readonly: true });
  try {
    const rows = db
      .prepare<[], { text: string }>('SELECT data AS text FROM events UNION ALL SELECT value FROM unique_values UNION ALL SELECT outcome FROM idempotency_records')
      .all();
    return rows.map((row) => row.text).join('\n');
  } finally {
    db.close();
  }
}

const USER_FIELDS = 'id username email version';
async function createUser(username: string, email: string, idempotencyKey?: string, url = server.url) {
  const { body } = await gql<{ createUser: { __typename: string; user: { id: string; username: string; email: string } } }>(
    url,
    `mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { ${USER_FIELDS} } } } }`,
    { input: { username, email, ...(idempotencyKey ? { idempotencyKey } : {}) } },
  );
  expect(body.data?.createUser.__typename).toBe('CreateUserSuccess');
  return body.data!.createUser.user;
}

describe('personal fields at rest', () => {
  it('are stored sealed for created and updated users, while the API answers them', async () => {
    const marker = randomUUID().slice(0, 8);
    const kept = await createUser(`keptname${marker}`, `kept.${marker}@example.com`, `key-${marker}`);
    const changed = await createUser(`oldname${marker}`, `old.${marker}@example.com`);
    const { body } = await gql<{ updateUser: { __typename: string } }>(
      server.url,
      'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }',
      { input: { id: changed.id, username: `newname${marker}`, email: `new.${marker}@example.com` } },
    );
    expect(body.data?.updateUser.__typename).toBe('UpdateUserSuccess');

    const read = await gql<{ a: { username: string; email: string }; b: { username: string; email: string } }>(
      server.url,
      'query ($a: ID!, $b: ID!) { a: user(id: $a) { username email } b: user(id: $b) { username email } }',
      { a: kept.id, b: changed.id },
    );
    expect(read.body.data).toEqual({
      a: { username: `keptname${marker}`, email: `kept.${marker}@example.com` },
      b: { username: `newname${marker}`, email: `new.${marker}@example.com` },
    });
    // The old email was released and can be taken again (the claim is a keyed hash, released by the same hash).
    await createUser(`another${marker}`, `old.${marker}@example.com`);

    // A rejection remembered under an idempotency key keeps no address either; the answer shows the input's, also on a replay.
    for (let attempt = 0; attempt < 2; attempt++) {
      const taken = await gql<{ createUser: { __typename: string; email: string } }>(
        server.url,
        'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on EmailTaken { email } } }',
        { input: { username: `thief${marker}`, email: ` KEPT.${marker}@example.com`, idempotencyKey: `steal-${marker}` } },
      );
      expect(taken.body.data?.createUser).toEqual({ __typename: 'EmailTaken', email: `KEPT.${marker}@example.com` });
    }

    const stored = await storedText();
    expect(stored).toContain('$sealed');
    expect(stored).not.toContain(marker);
  });

  it.skipIf(onPostgres)('leaves no plaintext in the bytes of events.db or snapshots.db after a clean stop', async () => {
    const marker = randomUUID().slice(0, 8);
    const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-at-rest-'));
    try {
      const own = await startTestServer({ dataDir, env: { SNAPSHOT_EVERY: '2' } });
      try {
        const user = await createUser(`bytes${marker}`, `bytes.${marker}@example.com`, undefined, own.url);
        for (let i = 0; i < 4; i++) {
          const { body } = await gql<{ updateUser: { __typename: string } }>(
            own.url,
            'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }',
            { input: { id: user.id, username: `bytes${i}${marker}` } },
          );
          expect(body.data?.updateUser.__typename).toBe('UpdateUserSuccess');
        }
      } finally {
        await own.stop();
      }
      const files = readdirSync(dataDir).filter((name) => name.startsWith('events.db') || name.startsWith('snapshots.db'));
      expect(files).toContain('events.db');
      expect(files).toContain('snapshots.db');
      const snapshots = new Database(join(dataDir, 'snapshots.db'), { readonly: true });
      try {
        // Snapshots were written (sealed), so their bytes were really searched.
        const states = snapshots.prepare<[], { state: string }>('SELECT state FROM snapshots').all();
        expect(states.length).toBeGreaterThan(0);
        expect(states.every(({ state }) => state.includes('$sealed'))).toBe(true);
      } finally {
        snapshots.close();
      }
      for (const file of files) expect(readFileSync(join(dataDir, file)).includes(marker), file).toBe(false);
      // The read model is the one place that keeps them, and the proof that the writes happened.
      expect(readFileSync(join(dataDir, 'read.db')).includes(`bytes3${marker}`)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
