import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damageFile, describeDamage, type Damage } from '../support/damage.js';
import { npmStart, runNpm } from '../support/npm.js';
import { gql, startTestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const USERS = 400;
const LAST_USER = `User:d${USERS - 1}`;

const readDamages: readonly Damage[] = [
  { type: 'truncated', to: 'half' },
  { type: 'truncated', to: 100 },
  { type: 'overwritten', pages: 'from page 2 to the middle' },
  { type: 'overwritten', pages: 'leaves of table', table: 'users' },
];
/** The damage SQLite sees when it opens the file; garbled data pages only a statement that reads them (or a full check) finds. */
const foundAtOpen = (damage: Damage) => !(damage.type === 'overwritten' && damage.pages === 'leaves of table');

const logDamages: readonly Damage[] = [
  { type: 'truncated', to: 'half' },
  { type: 'truncated', to: 100 },
  { type: 'overwritten', pages: 'from page 2 to the middle' },
  { type: 'overwritten', pages: 'leaves of table', table: 'events' },
];

const STACK_LINE = /^\s+at /m;
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every row of every table: what SQLite itself says about the file. */
function readEverything(path: string) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
    for (const { name } of tables) db.prepare(`SELECT * FROM "${name}"`).all();
  } finally {
    db.close();
  }
}

function readModelRows(dataDir: string) {
  const db = new Database(join(dataDir, 'read.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users').get()!.n;
    const total = db.prepare<[], { total: number }>('SELECT total FROM users_count').get()!.total;
    return { rows, total };
  } finally {
    db.close();
  }
}

const setAsideCopies = (dataDir: string) => readdirSync(dataDir).filter((name) => /^read\.db\.damaged-[0-9T-]+Z$/.test(name));

describe('damaged SQLite files, through npm start / npm run rebuild / npm run migrate', () => {
  const dirs: string[] = [];
  const fixture = mkdtempSync(join(tmpdir(), 'cqrs-graphql-damage-'));
  dirs.push(fixture);
  const copyOfFixture = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-damaged-'));
    dirs.push(dir);
    cpSync(fixture, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    const server = await startTestServer({ dataDir: fixture });
    try {
      for (let start = 0; start < USERS; start += 20) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            gql(server.url, `mutation { createUser(input: { id: "d${start + i}", username: "damage${start + i}", email: "d${start + i}@example.com" }) { __typename } }`),
          ),
        );
      }
      await waitUntil(async () => (await server.system.projector.status()).every((p) => p.lag === 0), 'the read model to catch up');
    } finally {
      await server.stop();
    }
    expect(readModelRows(fixture)).toEqual({ rows: USERS, total: USERS });
  }, 120_000);
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(['read.db', 'events.db'])('each damage of %s', (file) => {
    it.each((file === 'read.db' ? readDamages : logDamages).map((damage) => [describeDamage(damage), damage] as const))(
      'is one SQLite reports: %s',
      (_, damage) => {
        const dir = copyOfFixture();
        readEverything(join(dir, file));
        damageFile(join(dir, file), damage);
        expect(() => readEverything(join(dir, file))).toThrow(/database disk image is malformed|file is not a database/);
      },
    );
  });

  describe.each(readDamages.map((damage) => [describeDamage(damage), damage] as const))('read.db %s', (_, damage) => {
    const damagedCopy = () => {
      const dir = copyOfFixture();
      damageFile(join(dir, 'read.db'), damage);
      return dir;
    };

    it('npm start logs the file, sets it aside, rebuilds it from events.db and serves every user', async () => {
      const dir = damagedCopy();
      const server = npmStart(dir);
      try {
        const url = await server.listening;
        expect(url, server.output()).not.toBeNull();
        // The leaf-page damage is found by the first query that reads those rows; the answers are whole again once the projection has refilled the fresh file.
        await waitUntil(
          async () => {
            const { body } = await gql<{ users: { totalCount: number; edges: unknown[] }; user: { id: string } | null }>(
              url!,
              `{ users(first: 100) { totalCount edges { node { id } } } user(id: "${LAST_USER}") { id } }`,
            );
            return body.data?.users.totalCount === USERS && body.data.users.edges.length === 100 && body.data.user?.id === LAST_USER;
          },
          'every user served',
          60_000,
        );
        const setAside = server.logs.filter((line) => line['readModelRepair'] === 'set-aside');
        expect(setAside, server.output()).toHaveLength(1);
        expect(setAside[0]).toMatchObject({ level: 50, file: join(dir, 'read.db'), when: foundAtOpen(damage) ? 'open' : 'running' });
        expect(String(setAside[0]!['msg'])).toContain(`${join(dir, 'read.db')} is damaged`);
        if (foundAtOpen(damage)) {
          expect(server.logs.find((line) => line['readModelRepair'] === 'rebuilt')).toMatchObject({ projection: 'users', applied: USERS });
        }
        expect(server.output()).not.toMatch(STACK_LINE);
      } finally {
        await server.stop();
      }
      // npm itself dies of the signal; the server under it shuts down cleanly.
      expect(server.logs.some((line) => line['msg'] === 'stopped'), server.output()).toBe(true);
      expect(setAsideCopies(dir)).toHaveLength(1);
      expect(readModelRows(dir)).toEqual({ rows: USERS, total: USERS });
    }, 120_000);

    it('npm run rebuild sets it aside and rebuilds every row', async () => {
      const dir = damagedCopy();
      const run = await runNpm('rebuild', { DATA_DIR: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`${join(dir, 'read.db')} is damaged (database disk image is malformed): moved it to ${join(dir, 'read.db.damaged-')}`);
      expect(run.stderr).toMatch(new RegExp(`users: ${USERS} events in`));
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(setAsideCopies(dir)).toHaveLength(1);
      expect(readModelRows(dir)).toEqual({ rows: USERS, total: USERS });
    }, 120_000);

    // migrate reads every page of both files first, so it finds garbled data pages too.
    it('npm run migrate sets it aside and rebuilds it', async () => {
      const dir = damagedCopy();
      const run = await runNpm('migrate', { DATA_DIR: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`${join(dir, 'read.db')} is damaged (`);
      expect(run.stderr).toContain(`moved it to ${join(dir, 'read.db.damaged-')}`);
      expect(run.stderr).toContain(`rebuilt users: ${USERS} events`);
      expect(run.stdout).toContain('store migrated');
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(setAsideCopies(dir)).toHaveLength(1);
      expect(readModelRows(dir)).toEqual({ rows: USERS, total: USERS });
    }, 120_000);
  });

  describe.each(logDamages.map((damage) => [describeDamage(damage), damage] as const))('events.db %s', (_, damage) => {
    const damagedCopy = () => {
      const dir = copyOfFixture();
      damageFile(join(dir, 'events.db'), damage);
      return { dir, events: sha(join(dir, 'events.db')), read: sha(join(dir, 'read.db')) };
    };
    const expectRefusal = (stderr: string, dir: string) => {
      const line = stderr.split('\n').find((l) => l.startsWith(join(dir, 'events.db')));
      expect(line, stderr).toBeDefined();
      expect(line).toContain('is damaged');
      expect(line).toContain('restore events.db from your latest backup');
      expect(stderr).not.toMatch(STACK_LINE);
    };
    const expectUntouched = (copy: ReturnType<typeof damagedCopy>) => {
      expect(readdirSync(copy.dir).filter((name) => name.startsWith('events.db.'))).toEqual([]);
      expect(sha(join(copy.dir, 'events.db'))).toBe(copy.events);
      expect(sha(join(copy.dir, 'read.db'))).toBe(copy.read);
    };

    // Garbled data pages in the log are not seen at start (a full read of the log on every start is too slow; README: Operations).
    if (foundAtOpen(damage)) it('npm start refuses, naming the file and how to restore it, and never serves', async () => {
      const copy = damagedCopy();
      const server = npmStart(copy.dir);
      expect(await server.listening).toBeNull();
      expect(await server.exited).toBe(1);
      expect(server.logs.filter((line) => typeof line['url'] === 'string')).toEqual([]);
      expectRefusal(server.output(), copy.dir);
      expectUntouched(copy);
    }, 120_000);

    // Both read the whole log before changing anything.
    it.each(['rebuild', 'migrate'])('npm run %s refuses the same way, before changing anything', async (script) => {
      const copy = damagedCopy();
      const run = await runNpm(script, { DATA_DIR: copy.dir });
      expect(run.code).toBe(1);
      expectRefusal(run.stderr, copy.dir);
      expectUntouched(copy);
    }, 120_000);
  });
});
