/**
 * A new projection added to a store that already has events (as the user
 * search read model is): it is built beside, from the start of the log, and
 * switched in. Until then it serves nothing, and mutations do not wait for
 * it: their read-your-writes waits leave it out. SQLite, through the test
 * seam that runs extra projections beside the modules' own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { SqliteProjection } from '../../src/stores/sqlite/projection-sink.js';
import { userIdOf } from '../../src/users/user.js';
import { startTestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { createUser, seedUsers } from './support.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Each user's latest username, slowed so that its build lasts long enough to act during it. */
const userNames: SqliteProjection = {
  name: 'user_names',
  eventTypes: ['UserCreated', 'UserUpdated'],
  migrations: [{ version: 1, description: 'usernames', up: (db) => db.exec('CREATE TABLE user_names (id TEXT PRIMARY KEY, username TEXT NOT NULL) STRICT') }],
  apply: (db, events) => {
    Atomics.wait(pause, 0, 0, 25);
    const upsert = db.prepare('INSERT INTO user_names (id, username) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET username = excluded.username');
    for (const event of events) {
      const { username } = event.data as { username?: string };
      if (username !== undefined) upsert.run(userIdOf(event as never), username);
    }
  },
  reset: (db) => void db.exec('DELETE FROM user_names'),
};

type Projection = { name: string; version: number | null; build: { state: string } | null; lag: number };
const projectionsOf = async (url: string) =>
  ((await (await fetch(url.replace(/\/graphql$/, '/health'))).json()) as { projections: Projection[] }).projections;
const userNamesOf = async (url: string) => (await projectionsOf(url)).find((p) => p.name === 'user_names')!;

describe('a new projection on a log with events', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-new-projection-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is built beside and switched in; meanwhile it serves nothing and holds no mutation', { timeout: 120_000 }, async () => {
    const before = await startTestServer({ dataDir });
    const seeded = 100;
    await seedUsers(before.url, seeded);
    await before.close();

    // Read-your-writes waits of a minute: a mutation that waited for the unbuilt projection would not answer during its build.
    const server = await startTestServer({ dataDir, env: { READ_YOUR_WRITES_TIMEOUT_MS: '60000' }, extraProjections: [userNames], buildBatchSize: 2 });
    try {
      expect(await userNamesOf(server.url)).toMatchObject({ version: null, build: { state: 'building' } });
      await createUser(server.url, 'during');
      // Answered while the new projection was still being built.
      expect(await userNamesOf(server.url)).toMatchObject({ version: null, build: { state: 'building' } });
      // Nothing of it is served yet: its live table is empty.
      expect(countRows(dataDir, 'user_names')).toBe(0);

      await waitUntil(async () => (await userNamesOf(server.url)).version === 1, 'the new projection to switch in', 60_000);
      await waitUntil(async () => (await userNamesOf(server.url)).lag === 0, 'it to catch up');
      expect(await userNamesOf(server.url)).toMatchObject({ version: 1, build: null });
      await createUser(server.url, 'after');
      expect(countRows(dataDir, 'user_names')).toBe(seeded + 2);
    } finally {
      await server.close();
    }
    const db = new Database(join(dataDir, 'read.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT username FROM user_names WHERE id = 'seed42'").pluck().get()).toBe('seed42_r');
    } finally {
      db.close();
    }
  });
});

/** Rows of a table of read.db, as another reader of the file sees them (committed ones). */
function countRows(dataDir: string, table: string): number {
  const db = new Database(join(dataDir, 'read.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}
