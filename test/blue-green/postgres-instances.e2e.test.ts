/**
 * A version bump on two instances sharing one PostgreSQL: only the instance
 * holding the projection's lease builds; reads through the other keep coming
 * from the complete live read model; after the switch both serve the new one
 * and say so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { waitUntil } from '../support/wait.js';
import { logged, seedUsers, startLoad, totalCount, usersHealth, VERSIONED_SERVER } from './support.js';

describe.skipIf(postgresUnavailable !== null)('a version bump on two instances sharing PostgreSQL', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-blue-green-instances-'));
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

  it('only the leader builds; the other serves the old read model whole, then the new one', { timeout: 180_000 }, async () => {
    const database = await createTestDatabase('bluegreeninstances');
    cleanups.push(() => database.drop());
    const env = { DATABASE_URL: database.url, PROJECTION_POLL_INTERVAL_MS: '250' };
    const start = async (extra: Record<string, string>) => {
      const server = await spawnServer(root, { ...env, ...extra }, VERSIONED_SERVER);
      servers.push(server);
      return server;
    };
    const v1 = await start({ TEST_USERS_VERSION: '1' });
    const seeded = 150;
    await seedUsers(v1.url, seeded);
    v1.child.kill('SIGTERM');
    await v1.exited;

    const slow = { TEST_USERS_VERSION: '2', TEST_SLOW_BATCH_MS: '10', TEST_BUILD_BATCH_SIZE: '10' };
    const [a, b] = await Promise.all([start(slow), start(slow)]);
    await waitUntil(async () => (await Promise.all([a!, b!].map((s) => usersHealth(s.url)))).some((h) => h.build !== null), 'a build to start');
    const [leader, follower] = (await usersHealth(a!.url)).build ? [a!, b!] : [b!, a!];
    expect(await usersHealth(leader.url)).toMatchObject({ leader: true, version: 1 });
    expect(await usersHealth(follower.url)).toMatchObject({ leader: false, build: null });

    const load = startLoad(follower.url, follower.url, 'live');
    await waitUntil(async () => (await usersHealth(leader.url)).version === 2, 'the switch', 120_000);
    await load.stop();

    expect(logged(leader, 'building users version 2 beside the live read model')).toBe(true);
    expect(logged(follower, 'beside the live read model')).toBe(false);
    expect(load.counts.length).toBeGreaterThan(1);
    expect(Math.min(...load.counts)).toBeGreaterThanOrEqual(seeded);
    for (let i = 1; i < load.counts.length; i++) expect(load.counts[i]).toBeGreaterThanOrEqual(load.counts[i - 1]!);

    await waitUntil(async () => (await usersHealth(follower.url)).version === 2, 'the follower to see version 2');
    await waitUntil(async () => (await usersHealth(leader.url)).lag === 0, 'the projection to catch up');
    expect(await totalCount(follower.url)).toBe(seeded + load.created());
  });
});
