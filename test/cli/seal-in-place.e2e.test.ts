/**
 * `npm run migrate` on a store written before personal fields were sealed
 * (issue 21, §1): it seals every event's personal fields in place, hashes the
 * email claims, strips emails from stored rejections and drops snapshots, then
 * sets the marker `serve` wants. Here on a synthetic plaintext store (3,000
 * events of 1,000 users, written with the raw store adapter, no sealing), on
 * SQLite and PostgreSQL, with the migration SIGKILLed part-way as a real
 * process (`node dist/main.js migrate`) and run again to its end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import { masterKey, type MasterKey } from '../../src/kernel/crypto/master-key.js';
import { createPersonalData, SEALED_FIELD } from '../../src/kernel/personal-data.js';
import { LOG_START } from '../../src/kernel/position.js';
import type { SnapshotStore } from '../../src/kernel/snapshots.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createPostgresSnapshotStore } from '../../src/stores/postgres/snapshots.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { createSqliteSnapshotStore } from '../../src/stores/sqlite/snapshots.js';
import { usersModule } from '../../src/users/module.js';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { createTestDatabase, openTestPool, postgresUnavailable } from '../support/postgres.js';
import { runToExit } from '../support/process.js';
import { TEST_MASTER_KEY_BASE64, testMasterKey } from '../support/master-key.js';
import { gql, startTestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const USERS = 1000;
const SECRET = randomBytes(32).toString('base64url');
const AUTH_ENV = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
const root = mkdtempSync(join(tmpdir(), 'cqrs-seal-in-place-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => expect((await runToExit('npm', ['run', 'build', '--silent'])).code).toBe(0), 90_000);

/** Markers found nowhere but in one user's personal fields. */
const tag = randomBytes(4).toString('hex');
const user = (i: number) => ({
  id: `m${i}`,
  first: `qx${tag}u${i}a`,
  renamed: `qx${tag}u${i}b`,
  email: `zq${tag}.${i}.one@seal.example`,
  moved: `ZQ${tag}.${i}.Two@seal.example`,
});
const MARKER = new RegExp(`(qx|zq)${tag}`, 'i');

/** Where the marker first occurs in a file's bytes, with some bytes around it, or undefined. */
function markerAt(bytes: Buffer): string | undefined {
  const text = bytes.toString('latin1');
  const at = text.search(MARKER);
  return at < 0 ? undefined : `offset ${at} of ${bytes.length} (page ${Math.floor(at / 4096)}): ${JSON.stringify(text.slice(Math.max(0, at - 80), at + 80))}`;
}

const metadata = (i: number) => ({ occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), commandId: `c${i}`, correlationId: `c${i}` });

/** Each user: created, renamed, moved to a new email; events at their current schema versions, personal fields in plaintext. */
async function writePlaintext(store: EventStore, snapshots: SnapshotStore): Promise<void> {
  const one = async (i: number) => {
    const u = user(i);
    const streamId = `user-${u.id}`;
    const write = async (expectedVersion: number, event: NewEvent, extra: object = {}) => {
      const done = await store.append({ streamId, expectedVersion, events: [event], ...extra });
      if (!done.ok) throw new Error(JSON.stringify(done.error));
    };
    await write(0, { type: 'UserCreated', schemaVersion: 3, data: { userId: u.id, username: u.first, email: u.email, createdBy: null }, metadata: metadata(i) }, {
      claims: [{ scope: 'user-email', value: u.email.toLowerCase() }],
    });
    await write(1, { type: 'UserUpdated', schemaVersion: 2, data: { userId: u.id, username: u.renamed }, metadata: metadata(i) });
    await write(2, { type: 'UserUpdated', schemaVersion: 2, data: { userId: u.id, email: u.moved }, metadata: metadata(i) }, {
      releases: [{ scope: 'user-email', value: u.email.toLowerCase() }],
      claims: [{ scope: 'user-email', value: u.moved.toLowerCase() }],
    });
  };
  for (let start = 0; start < USERS; start += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(start + k)));
  // As release 0.1.0 stored a rejection: with the email it was refused for.
  await store.saveIdempotencyRecord({
    key: 'steal-email',
    requestHash: 'old',
    outcome: { ok: false, error: { type: 'EmailTaken', message: 'Another user already has this email address', email: user(0).moved } },
  });
  await snapshots.saveSnapshots([
    { streamId: 'user-m1', fold: 'user-state@2', version: 3, position: (await store.headPosition()), time: metadata(1).occurredAt, state: { username: user(1).renamed, email: user(1).moved } },
  ]);
}

type Row = Readonly<{ position: string; streamId: string; streamVersion: number; type: string; data: Record<string, unknown> }>;

/** A store of one kind, read and written below the sealing layer. */
type Kind = Readonly<{
  name: string;
  env: Record<string, string>;
  /** The raw adapter (no sealing), for as long as `use` runs. */
  raw: <T>(use: (store: EventStore, snapshots: SnapshotStore) => Promise<T>) => Promise<T>;
  rows: () => Promise<Row[]>;
  marker: () => Promise<boolean | undefined>;
  /** Every stored claim, outcome and snapshot, as text. */
  sideTables: () => Promise<string>;
  key: () => MasterKey;
  /** The store's files that must hold no plaintext, by name (SQLite only). */
  files: () => Map<string, Buffer>;
  drop: () => Promise<void>;
}>;

function sqliteKind(): Kind {
  const dataDir = mkdtempSync(join(root, 'sqlite-'));
  const query = <T>(sql: string) => {
    const db = new Database(join(dataDir, 'events.db'), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    name: 'SQLite',
    env: { DATA_DIR: dataDir },
    raw: async (use) => {
      const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
      const snapshots = createSqliteSnapshotStore({ path: join(dataDir, 'snapshots.db') });
      try {
        return await use(store, snapshots);
      } finally {
        await snapshots.close();
        await store.close();
      }
    },
    rows: async () =>
      query<{ position: number; stream_id: string; stream_version: number; type: string; data: string }>(
        'SELECT position, stream_id, stream_version, type, data FROM events ORDER BY position',
      ).map((r) => ({ position: String(r.position), streamId: r.stream_id, streamVersion: r.stream_version, type: r.type, data: JSON.parse(r.data) })),
    marker: async () => {
      const [row] = query<{ events_sealed: number }>('SELECT events_sealed FROM master_key_check');
      return row === undefined ? undefined : row.events_sealed === 1;
    },
    sideTables: async () =>
      JSON.stringify([query('SELECT * FROM unique_values'), query('SELECT * FROM idempotency_records')]) +
      readFileSync(join(dataDir, 'snapshots.db')).toString('latin1'),
    key: () => masterKey(Buffer.from(readFileSync(join(dataDir, 'master.key'), 'utf8').trim(), 'base64'), 'generated'),
    files: () => new Map(readdirSync(dataDir).filter((f) => /^(events|snapshots)\.db/.test(f)).map((f) => [f, readFileSync(join(dataDir, f))])),
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function postgresKind(): Promise<Kind> {
  const database = await createTestDatabase('seal_in_place');
  const query = async <T>(sql: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return {
    name: 'PostgreSQL',
    env: { DATABASE_URL: database.url, MASTER_KEY: TEST_MASTER_KEY_BASE64 },
    raw: async (use) => {
      const pool = openTestPool({ connectionString: database.url, max: 4 });
      const store = await createPostgresEventStore({ pool, connectionString: database.url });
      try {
        return await use(store, await createPostgresSnapshotStore(pool));
      } finally {
        await store.close();
        await pool.end();
      }
    },
    rows: async () =>
      (
        await query<{ p: string; stream_id: string; stream_version: number; type: string; data: Record<string, unknown> }>(
          `SELECT transaction_id::text || '.' || position::text AS p, stream_id, stream_version, type, data FROM events ORDER BY transaction_id, position`,
        )
      ).map((r) => ({ position: r.p, streamId: r.stream_id, streamVersion: r.stream_version, type: r.type, data: r.data })),
    marker: async () => (await query<{ events_sealed: boolean }>('SELECT events_sealed FROM master_key_check'))[0]?.events_sealed,
    sideTables: async () =>
      JSON.stringify([
        await query('SELECT * FROM unique_values'),
        await query('SELECT * FROM idempotency_records'),
        await query('SELECT * FROM snapshots'),
      ]),
    key: () => testMasterKey,
    files: () => new Map(),
    drop: () => database.drop(),
  };
}

const isSealed = (row: Row) => typeof row.data[SEALED_FIELD] === 'string' && !('username' in row.data) && !('email' in row.data);

/** `node dist/main.js migrate`, killed with SIGKILL once it reports sealed events (and before its end). */
async function migrateKilledMidway(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['dist/main.js', 'migrate', '--batch-size', '5'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
    const progress = [...stderr.matchAll(/sealing events: (\d+)\/(\d+)/g)].map((m) => Number(m[1]));
    if (progress.some((sealed) => sealed > 0)) child.kill('SIGKILL');
  });
  const exit = await new Promise<string | number>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  expect(exit, stderr).toBe('SIGKILL');
  return stderr;
}

function describeSealing(open: () => Promise<Kind>) {
  it('seals every event once, resumably after a SIGKILL; the server then answers every user as before and erasure frees emails', { timeout: 300_000 }, async () => {
    const kind = await open();
    try {
      await kind.raw(writePlaintext);
      const before = await kind.rows();
      expect(before).toHaveLength(3 * USERS);
      expect(before.every((row) => !isSealed(row))).toBe(true);

      const progress = await migrateKilledMidway(kind.env);
      expect(progress).toMatch(/sealing events: 0\/3000/);
      const half = await kind.rows();
      const sealedAtKill = half.filter(isSealed).length;
      // Killed part-way: some batches committed, the rest untouched, and the marker not set.
      expect(sealedAtKill).toBeGreaterThan(0);
      expect(sealedAtKill).toBeLessThan(3 * USERS);
      expect(await kind.marker()).toBe(false);

      const rerun = await runToExit(process.execPath, ['dist/main.js', 'migrate'], kind.env, 120_000);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).toContain(`sealing events: 0/${3 * USERS - sealedAtKill} `);
      expect(rerun.stderr).toMatch(new RegExp(`sealed ${3 * USERS - sealedAtKill} events .*hashed ${USERS} email claims, removed personal fields from 1 stored command outcomes`));
      expect(await kind.marker()).toBe(true);

      // Same rows in the same order at the same positions; only data changed, each event sealed once.
      const after = await kind.rows();
      expect(after.map(({ data: _, ...rest }) => rest)).toEqual(before.map(({ data: _, ...rest }) => rest));
      expect(after.every(isSealed)).toBe(true);
      const opened = await kind.raw((store) => createPersonalData(kind.key(), [usersModule.personalData!]).openEvents(store, [...after.map((row) => ({ ...row, position: row.position as never, schemaVersion: 1, metadata: {} as never }))]));
      expect(opened.map((event) => event.data)).toEqual(before.map((row) => row.data));
      // A second run finds nothing to do.
      const again = await runToExit(process.execPath, ['dist/main.js', 'migrate'], kind.env, 60_000);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/sealing events/);

      // No marker in plaintext: events (as SQL text), claims, outcomes, snapshots, and on SQLite the files' bytes.
      expect(JSON.stringify(after)).not.toMatch(MARKER);
      expect(await kind.sideTables()).not.toMatch(MARKER);
      for (const [name, bytes] of kind.files()) expect(markerAt(bytes), name).toBeUndefined();

      const server = await startTestServer({ dataDir: kind.env['DATA_DIR'] ?? mkdtempSync(join(root, 'unused-')), env: { ...AUTH_ENV, ...kind.env, PROJECTION_POLL_INTERVAL_MS: '50' } });
      try {
        const admin = bearer(await signToken(new TextEncoder().encode(SECRET), 'root', { claims: { roles: ['admin'] } }));
        await waitUntil(async () => {
          const { body } = await gql<{ users: { totalCount: number } }>(server.url, '{ users(first: 1) { totalCount } }', {}, { authorization: admin });
          return body.data?.users.totalCount === USERS;
        }, 'every user in the read model');
        for (let i = 0; i < USERS; i += 37) {
          const { body } = await gql(server.url, 'query ($id: ID!) { user(id: $id) { username email erased version } }', { id: user(i).id }, { authorization: admin });
          expect(body.data).toEqual({ user: { username: user(i).renamed, email: user(i).moved, erased: false, version: 3 } });
        }
        const create = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename } }';
        const taken = await gql(server.url, create, { input: { username: 'imposter', email: user(5).moved.toUpperCase() } }, { authorization: admin });
        expect(taken.body.data).toEqual({ createUser: { __typename: 'EmailTaken' } });
        const erased = await gql(server.url, 'mutation ($input: EraseUserInput!) { eraseUser(input: $input) { __typename } }', { input: { id: user(5).id } }, { authorization: admin });
        expect(erased.body.data).toEqual({ eraseUser: { __typename: 'EraseUserSuccess' } });
        const freed = await gql(server.url, create, { input: { username: 'newcomer', email: user(5).moved } }, { authorization: admin });
        expect(freed.body.data).toEqual({ createUser: { __typename: 'CreateUserSuccess' } });
      } finally {
        await server.close();
      }
    } finally {
      await kind.drop();
    }
  });
}

describe('npm run migrate on a plaintext SQLite store', () => describeSealing(async () => sqliteKind()));

describe.skipIf(postgresUnavailable !== null)('npm run migrate on a plaintext PostgreSQL store', () => describeSealing(postgresKind));
