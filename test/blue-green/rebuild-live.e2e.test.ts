/**
 * `npm run rebuild` beside a live system, under write load: the running
 * server (on PostgreSQL, the instance leading the projection, and only that
 * one) builds beside the live read model; the command shows the progress and
 * returns once the switch has committed. Reads meanwhile come from the
 * complete live read model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { runToExit, spawnServer, type ServerProcess } from '../support/process.js';
import { TEST_MASTER_KEY_BASE64 } from '../support/master-key.js';
import { waitUntil } from '../support/wait.js';
import { logged, seedUsers, startLoad, totalCount, usersHealth, VERSIONED_SERVER } from './support.js';

const SLOW = { TEST_SLOW_BATCH_MS: '10', TEST_BUILD_BATCH_SIZE: '20', PROJECTION_POLL_INTERVAL_MS: '250' };
// The users projection by name: each projection has its own leader, and this test follows the users one.
const rebuild = (env: Record<string, string>) => runToExit(process.execPath, ['--import', 'tsx', 'src/main.ts', 'rebuild', 'users'], env, 120_000);

describe('npm run rebuild on a live system', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-rebuild-live-'));
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

  it('SQLite: the server on DATA_DIR builds beside under write load; the command returns after the switch', { timeout: 180_000 }, async () => {
    const dataDir = join(root, 'sqlite');
    const server = await spawnServer(dataDir, SLOW, VERSIONED_SERVER);
    servers.push(server);
    const seeded = 200;
    await seedUsers(server.url, seeded);

    const load = startLoad(server.url, server.url, 'live');
    const result = await rebuild({ DATA_DIR: dataDir });
    // The switch committed before the command returned.
    expect(logged(server, 'built and switched in')).toBe(true);
    const health = await usersHealth(server.url);
    await load.stop();

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/users \[[#.]+\] +\d+\.\d%  building \d+ of about \d+ events/);
    expect(result.stderr).toMatch(/users: built beside the live read model and switched in: \d+ events/);
    expect(health).toMatchObject({ version: 1, build: null });
    expect(logged(server, 'building users version 1 beside the live read model')).toBe(true);

    expect(load.counts.length).toBeGreaterThan(1);
    expect(Math.min(...load.counts)).toBeGreaterThanOrEqual(seeded);
    for (let i = 1; i < load.counts.length; i++) expect(load.counts[i]).toBeGreaterThanOrEqual(load.counts[i - 1]!);
    await waitUntil(async () => (await usersHealth(server.url)).lag === 0, 'the projection to catch up');
    expect(await totalCount(server.url)).toBe(seeded + load.created());
  });

  it.skipIf(postgresUnavailable !== null)(
    'PostgreSQL, two instances: only the leader builds; reads through the other stay complete; the command returns after the switch',
    { timeout: 180_000 },
    async () => {
      const database = await createTestDatabase('rebuildlive');
      cleanups.push(() => database.drop());
      const env = { ...SLOW, DATABASE_URL: database.url };
      const [a, b] = await Promise.all([spawnServer(root, env, VERSIONED_SERVER), spawnServer(root, env, VERSIONED_SERVER)]);
      servers.push(a!, b!);
      await waitUntil(async () => (await Promise.all([a!, b!].map((s) => usersHealth(s.url)))).filter((h) => h.leader).length === 1, 'one leader');
      const [leader, follower] = (await usersHealth(a!.url)).leader ? [a!, b!] : [b!, a!];
      const seeded = 150;
      await seedUsers(follower.url, seeded);

      const load = startLoad(follower.url, follower.url, 'live');
      const result = await rebuild({ DATABASE_URL: database.url, MASTER_KEY: TEST_MASTER_KEY_BASE64 });
      expect(result.code, result.stderr).toBe(0);
      expect(logged(leader, 'built and switched in')).toBe(true);
      await load.stop();

      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/users: built beside the live read model and switched in: \d+ events/);
      expect(logged(leader, 'building users version 1 beside the live read model')).toBe(true);
      expect(logged(follower, 'beside the live read model')).toBe(false);

      expect(load.counts.length).toBeGreaterThan(1);
      expect(Math.min(...load.counts)).toBeGreaterThanOrEqual(seeded);
      for (let i = 1; i < load.counts.length; i++) expect(load.counts[i]).toBeGreaterThanOrEqual(load.counts[i - 1]!);
      await waitUntil(async () => (await usersHealth(leader.url)).lag === 0, 'the projection to catch up');
      expect(await totalCount(follower.url)).toBe(seeded + load.created());
    },
  );
});
