/**
 * The proof that erasure erases (README "Erasure"): users with marker
 * usernames and emails are created, renamed, moved to new emails, some of
 * them erased; then the raw bytes of the store are searched for the markers.
 *
 * - SQLite: every file in DATA_DIR after a clean stop, read models and
 *   snapshots included, holds no erased user's username or email, and
 *   events.db holds no email or username of anyone, kept users included.
 * - PostgreSQL (project `postgres`): the text of every row of every table
 *   in the database, read by plain SQL, the same. (Dead tuples are not
 *   visible to SQL; README "Erasure" says when VACUUM FULL removes them from disk.)
 *
 * Then the store is opened again and the kept users still read back whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { createTestDatabase } from '../support/postgres.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const SECRET = randomBytes(32).toString('base64url');
const onPostgres = process.env['TEST_STORE'] === 'postgres';

type Marked = Readonly<{ id: string; usernames: readonly string[]; emails: readonly string[] }>;

/** Strings that appear nowhere but in this user's data: any occurrence in the store is theirs. */
function markedUser(index: number): Marked {
  const tag = randomBytes(6).toString('hex');
  return {
    id: `bytes-${index}-${tag}`,
    usernames: [`qv${tag}first`, `qv${tag}second`],
    emails: [`zk${tag}.one@bytes.example`, `zk${tag}.two@bytes.example`],
  };
}

const directory = mkdtempSync(join(tmpdir(), 'cqrs-graphql-erasure-bytes-'));
const databases: { drop: () => Promise<void> }[] = [];
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  for (const database of databases) await database.drop();
});

async function openServer(env: Record<string, string>): Promise<TestServer> {
  return startTestServer({
    dataDir: directory,
    // A snapshot every two events: the users' folded states are written to the snapshot store too.
    env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, SNAPSHOT_EVERY: '2', ...env },
  });
}

async function call(server: TestServer, token: string, query: string, variables: Record<string, unknown>) {
  const { status, body } = await gql<Record<string, { __typename: string } & Record<string, unknown>>>(server.url, query, variables, {
    authorization: bearer(token),
  });
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data!;
}

const CREATE = `mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename } }`;
const UPDATE = `mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }`;
const ERASE = `mutation ($input: EraseUserInput!) { eraseUser(input: $input) { __typename } }`;
const READ = `query ($id: ID!) { user(id: $id) { username email erased history(first: 10) { edges { node { __typename state { username email } } } } } }`;

/** Every marker of these users that occurs in `text`. */
const found = (text: string, users: readonly Marked[], fields: 'all' | 'emails' = 'all') =>
  users.flatMap((user) => [...(fields === 'all' ? user.usernames : []), ...user.emails]).filter((marker) => text.includes(marker));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every row of every table of the database, as text. */
async function databaseText(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
    );
    const text: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      text[name] = rows.map((r) => r.row).join('\n');
    }
    return text;
  } finally {
    await client.end();
  }
}

describe('erasure leaves no byte of the erased users behind', () => {
  it('creates, changes and erases marked users; the store then holds no erased marker and the log no marker at all', { timeout: 120_000 }, async () => {
    const env: Record<string, string> = {};
    let url: string | undefined;
    if (onPostgres) {
      const database = await createTestDatabase('erasure_bytes');
      databases.push(database);
      env['DATABASE_URL'] = url = database.url;
    }
    const admin = await signToken(new TextEncoder().encode(SECRET), 'root', { claims: { roles: ['admin'] } });
    const users = Array.from({ length: 8 }, (_, i) => markedUser(i));
    const [erased, kept] = [users.filter((_, i) => i % 2 === 0), users.filter((_, i) => i % 2 === 1)];

    let server = await openServer(env);
    try {
      for (const [i, user] of users.entries()) {
        const created = await call(server, admin, CREATE, {
          input: { id: user.id, username: user.usernames[0], email: user.emails[0], idempotencyKey: `create-${user.id}` },
        });
        expect(created['createUser']!.__typename).toBe('CreateUserSuccess');
        // A rejection stored under an idempotency key names the email it was refused for, if anything does.
        const taken = await call(server, admin, CREATE, {
          input: { id: `${user.id}-twin`, username: 'twin', email: user.emails[0], idempotencyKey: `twin-${user.id}` },
        });
        expect(taken['createUser']!.__typename).toBe('EmailTaken');
        for (const input of [{ username: user.usernames[1] }, { email: user.emails[1] }]) {
          const updated = await call(server, admin, UPDATE, { input: { id: user.id, ...input, idempotencyKey: `update-${i}-${Object.keys(input)[0]}` } });
          expect(updated['updateUser']!.__typename).toBe('UpdateUserSuccess');
        }
      }
      for (const user of erased) {
        const result = await call(server, admin, ERASE, { input: { id: user.id, idempotencyKey: `erase-${user.id}` } });
        expect(result['eraseUser']!.__typename).toBe('EraseUserSuccess');
      }
      // Read-your-writes: the projections have applied every erasure before the stop below.
      const last = await call(server, admin, READ, { id: erased.at(-1)!.id });
      expect(last['user']).toMatchObject({ erased: true, username: null, email: null });
    } finally {
      await server.close();
    }

    if (url) {
      const tables = await databaseText(url);
      expect(Object.keys(tables)).toEqual(expect.arrayContaining(['public.events', 'public.users']));
      for (const [table, text] of Object.entries(tables)) {
        expect({ table, erasedMarkers: found(text, erased) }).toEqual({ table, erasedMarkers: [] });
      }
      expect(found(tables['public.events']!, kept)).toEqual([]);
    } else {
      const files = filesUnder(directory);
      expect(files.map((file) => file.slice(directory.length + 1))).toEqual(expect.arrayContaining(['events.db', 'read.db', 'snapshots.db']));
      for (const file of files) {
        const text = readFileSync(file).toString('latin1');
        expect({ file, erasedMarkers: found(text, erased) }).toEqual({ file, erasedMarkers: [] });
      }
      expect(found(readFileSync(join(directory, 'events.db')).toString('latin1'), kept)).toEqual([]);
    }

    // The kept users' data still decrypts: their reads and their history are whole.
    server = await openServer(env);
    try {
      for (const user of kept) {
        const read = await call(server, admin, READ, { id: user.id });
        expect(read['user']).toMatchObject({ username: user.usernames[1], email: user.emails[1], erased: false });
        const states = (read['user'] as unknown as { history: { edges: { node: { state: unknown } }[] } }).history.edges.map((edge) => edge.node.state);
        expect(states).toEqual([
          { username: user.usernames[0], email: user.emails[0] },
          { username: user.usernames[1], email: user.emails[0] },
          { username: user.usernames[1], email: user.emails[1] },
        ]);
      }
      for (const user of erased) {
        const read = await call(server, admin, READ, { id: user.id });
        expect(read['user']).toMatchObject({ username: null, email: null, erased: true });
      }
    } finally {
      await server.close();
    }
  });
});
