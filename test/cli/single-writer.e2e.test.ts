import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, spawnNpmStart, spawnServer } from '../support/process.js';
import { gql } from '../support/server.js';

type Health = { status: string; projections: { name: string; leader: boolean }[] };

async function health(url: string): Promise<Health> {
  return (await (await fetch(new URL('/health', url))).json()) as Health;
}

/** The refusal a second process gets: the directory, then the holder's pid and since when. */
function heldBy(dataDir: string, pid: number): RegExp {
  const escaped = dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^DATA_DIR ${escaped} is in use by process ${pid} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: .*stop it first$`, 'm');
}

describe('one writer per SQLite data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-graphql-writer-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Some servers here run the bundle directly, to know their pid without npm in between.
  beforeAll(async () => expect((await runToExit('npm', ['run', 'build', '--silent'])).code).toBe(0), 60_000);

  it('refuses a second `npm start` on the same DATA_DIR, naming the directory and the holder; the first stays the leader', async () => {
    const dataDir = join(root, 'two-servers');
    const first = await spawnNpmStart(dataDir);
    try {
      // One that wrongly starts is stopped after 30 s.
      const second = await runToExit('npm', ['start'], { HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' }, 30_000);
      expect(second.code).toBe(1);
      expect(first.pid).toEqual(expect.any(Number));
      expect(second.stderr).toMatch(heldBy(dataDir, first.pid!));
      // Refused before it served anything or ran a projection.
      expect(second.stdout).not.toContain('serving GraphQL');
      expect(second.stdout).not.toContain('running projection here');
      expect(second.stderr).not.toMatch(/^\s+at /m);

      expect(await health(first.url)).toMatchObject({ status: 'ready', projections: [{ name: 'users', leader: true }, { name: 'user-search', leader: true }] });
      const created = await gql(first.url, 'mutation { createUser(input: { id: "w1", username: "writer", email: "w1@example.com" }) { __typename } }');
      expect(created.body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });
      first.stop();
      expect(await first.exited).toBe(0);
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.stop();
    }
  }, 120_000);

  it('refuses `npm run migrate` beside a live server the same way; `npm run rebuild` has the server build beside, and rebuilds in place once it has stopped', async () => {
    const dataDir = join(root, 'rebuild-beside');
    const server = await spawnServer(dataDir, {}, ['dist/main.js']);
    let stopped = false;
    try {
      for (let i = 0; i < 5; i++) {
        await gql(server.url, `mutation { createUser(input: { id: "r${i}", username: "rebuilt${i}", email: "r${i}@example.com" }) { __typename } }`);
      }
      // The server holds the store: the command asks it to build beside its live read model (test/blue-green).
      const rebuild = await runToExit('npm', ['run', 'rebuild'], { DATA_DIR: dataDir });
      expect(rebuild.code, rebuild.stderr).toBe(0);
      expect(rebuild.stderr).toContain(`asked the running server (process ${server.child.pid!} since`);
      expect(rebuild.stderr).toMatch(/users: built beside the live read model and switched in: 5 events/);
      const migrate = await runToExit('npm', ['run', 'migrate'], { DATA_DIR: dataDir });
      expect(migrate.code).toBe(1);
      expect(migrate.stderr).toMatch(heldBy(dataDir, server.child.pid!));

      expect(await health(server.url)).toMatchObject({ status: 'ready', projections: [{ name: 'users', leader: true }, { name: 'user-search', leader: true }] });
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      stopped = true;

      const after = await runToExit('npm', ['run', 'rebuild'], { DATA_DIR: dataDir });
      expect(after.code).toBe(0);
      expect(after.stderr).toMatch(/users: 5 events in/);
    } finally {
      if (!stopped) server.child.kill('SIGTERM');
    }
  }, 120_000);

  it('lets a server restart at once on the DATA_DIR of one that was SIGKILLed', async () => {
    const dataDir = join(root, 'killed');
    const killed = await spawnServer(dataDir, {}, ['dist/main.js']);
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');

    const restarted = await spawnServer(dataDir, {}, ['dist/main.js']);
    try {
      expect(await health(restarted.url)).toMatchObject({ status: 'ready', projections: [{ name: 'users', leader: true }, { name: 'user-search', leader: true }] });
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
  }, 120_000);

  it('refuses `npm run rebuild` on a DATA_DIR that does not exist, naming it, and creates nothing', async () => {
    const missing = join(root, 'no-such-dir');
    const rebuild = await runToExit('npm', ['run', 'rebuild'], { DATA_DIR: missing });
    expect(rebuild.code).toBe(1);
    expect(rebuild.stderr).toContain(`nothing to rebuild: DATA_DIR ${missing} does not exist`);
    expect(rebuild.stderr).not.toMatch(/0 events/);
    expect(existsSync(missing)).toBe(false);
  }, 120_000);

  it('says when `npm run migrate` created the store, and when it only migrated one', async () => {
    const fresh = join(root, 'fresh');
    const created = await runToExit('npm', ['run', 'migrate'], { DATA_DIR: fresh });
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created a new, empty store: SQLite in ${fresh}`);
    expect(existsSync(join(fresh, 'events.db'))).toBe(true);

    const again = await runToExit('npm', ['run', 'migrate'], { DATA_DIR: fresh });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`store migrated (SQLite in ${fresh})`);
    expect(again.stdout).not.toContain('created');
  }, 120_000);
});
