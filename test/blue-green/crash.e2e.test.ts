/**
 * kill -9 in the middle of a blue/green build, on SQLite and on PostgreSQL:
 * the live read model stays the old version, whole, until the one switch
 * transaction commits; after a restart the build starts over from scratch
 * and switches, and what the crash left of the build is gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { gql } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { seedUsers, totalCount, usersHealth, VERSIONED_SERVER } from './support.js';

type LiveState = { version: number | null; users: number; renamed: number };

const stores = [
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
] as const;

describe('kill -9 during a blue/green build', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-blue-green-crash-'));
  const servers: ServerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  for (const store of stores) {
    it.skipIf(store.postgres && postgresUnavailable !== null)(
      `${store.name}: the old version stays live and whole; after a restart the build starts over and switches`,
      { timeout: 180_000 },
      async () => {
        const dataDir = join(root, store.name);
        const env: Record<string, string> = { PROJECTION_POLL_INTERVAL_MS: '250' };
        if (store.postgres) {
          const database = await createTestDatabase('bluegreencrash');
          cleanups.push(() => database.drop());
          env['DATABASE_URL'] = database.url;
        }
        const live = liveStateReader(dataDir, env['DATABASE_URL']);
        const start = async (extra: Record<string, string>) => {
          const server = await spawnServer(dataDir, { ...env, ...extra }, VERSIONED_SERVER);
          servers.push(server);
          return server;
        };

        const v1 = await start({ TEST_USERS_VERSION: '1' });
        const seeded = 200;
        await seedUsers(v1.url, seeded);
        v1.child.kill('SIGTERM');
        await v1.exited;
        const before = await live.read();
        expect(before).toEqual({ version: 1, users: seeded, renamed: seeded });

        // Version 2, slowed, killed once its build is under way.
        const slow = await start({ TEST_USERS_VERSION: '2', TEST_SLOW_BATCH_MS: '20', TEST_BUILD_BATCH_SIZE: '10' });
        await waitUntil(async () => ((await usersHealth(slow.url)).build?.applied ?? 0) > 0, 'the build to apply a batch');
        expect(await totalCount(slow.url)).toBe(seeded);
        slow.child.kill('SIGKILL');
        expect(await slow.exited).toBe('SIGKILL');
        expect(await live.leftovers()).toBe(true);
        // Not a row of the build reached the live read model, and its version is still 1.
        expect(await live.read()).toEqual(before);

        const v2 = await start({ TEST_USERS_VERSION: '2' });
        await waitUntil(async () => (await usersHealth(v2.url)).version === 2, 'the build to switch in after the restart', 60_000);
        expect(await live.read()).toEqual({ version: 2, users: seeded, renamed: seeded });
        expect(await live.leftovers()).toBe(false);
        const { body } = await gql<{ user: { username: string } }>(v2.url, '{ user(id: "seed7") { username } }');
        expect(body.data?.user.username).toBe('seed7_r');
      },
    );
  }
});

/** The live read model straight from the store: its recorded version and rows, and whether a build was left behind. */
function liveStateReader(dataDir: string, databaseUrl: string | undefined) {
  if (!databaseUrl) {
    return {
      read: async (): Promise<LiveState> => {
        const db = new Database(join(dataDir, 'read.db'), { readonly: true });
        try {
          const row = db.prepare<[], { version: number | null }>("SELECT version FROM projection_checkpoints WHERE name = 'users'").get();
          const users = db.prepare<[], { n: number; renamed: number }>("SELECT count(*) AS n, count(*) FILTER (WHERE username LIKE '%\\_r' ESCAPE '\\') AS renamed FROM users").get()!;
          return { version: row ? (row.version ?? 1) : null, users: users.n, renamed: users.renamed };
        } finally {
          db.close();
        }
      },
      leftovers: async () => readdirSync(dataDir).some((file) => file.startsWith('read.build-')),
    };
  }
  const query = async <T extends pg.QueryResultRow>(sql: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    read: async (): Promise<LiveState> => {
      const [checkpoint] = await query<{ version: number | null }>("SELECT version FROM projection_checkpoints WHERE name = 'users'");
      const [users] = await query<{ n: number; renamed: number }>("SELECT count(*)::int AS n, (count(*) FILTER (WHERE username LIKE '%\\_r'))::int AS renamed FROM public.users");
      return { version: checkpoint ? (checkpoint.version ?? 1) : null, users: users!.n, renamed: users!.renamed };
    },
    leftovers: async () => (await query("SELECT 1 FROM pg_namespace WHERE nspname = 'cqrs_build_users'")).length > 0,
  };
}
