/**
 * A projection's version bumped under write load: the server builds the new
 * version beside the live one and switches, while reads keep coming from the
 * complete old read model. On SQLite, and on PostgreSQL in the `postgres`
 * project (the same test, each server on the test's own database).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase } from '../support/postgres.js';
import { scrape } from '../support/metrics.js';
import { usersModuleAt } from '../support/versioned-users.js';
import { waitUntil } from '../support/wait.js';

type Health = { projections: { name: string; version: number | null; lag: number; build: { state: string; applied: number; total: number; version: number } | null }[] };
const onPostgres = process.env['TEST_STORE'] === 'postgres';

const healthOf = async (server: TestServer): Promise<Health['projections'][number]> => {
  const body = (await (await fetch(server.url.replace(/\/graphql$/, '/health'))).json()) as Health;
  return body.projections.find((p) => p.name === 'users')!;
};
const totalCount = async (server: TestServer) =>
  ((await gql<{ users: { totalCount: number } }>(server.url, '{ users(first: 1) { totalCount } }')).body.data!).users.totalCount;
const createUser = async (server: TestServer, id: string) => {
  const { body } = await gql<{ createUser: { __typename: string } }>(
    server.url,
    `mutation { createUser(input: { id: "${id}", username: "${id}", email: "${id}@example.com" }) { __typename } }`,
  );
  expect(body.data?.createUser.__typename, JSON.stringify(body)).toBe('CreateUserSuccess');
};
const renameUser = async (server: TestServer, id: string) => {
  const { body } = await gql<{ updateUser: { __typename: string } }>(server.url, `mutation { updateUser(input: { id: "${id}", username: "${id}_r" }) { __typename } }`);
  expect(body.data?.updateUser.__typename, JSON.stringify(body)).toBe('UpdateUserSuccess');
};

describe('a projection version bump on a running store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-blue-green-'));
  const databases: { drop: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('builds the new version beside the live one under write load, never serving a half-built read model, then switches', { timeout: 120_000 }, async () => {
    const env: Record<string, string> = {};
    if (onPostgres) {
      const database = await createTestDatabase('bluegreen');
      databases.push(database);
      env['DATABASE_URL'] = database.url;
    }
    const seeded = 300;
    const v1 = await startTestServer({ dataDir, env });
    for (let i = 0; i < seeded; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => createUser(v1, `seed${i + j}`)));
      await Promise.all(Array.from({ length: 10 }, (_, j) => renameUser(v1, `seed${i + j}`)));
    }
    expect(await totalCount(v1)).toBe(seeded);
    await v1.close();

    // Version 2, slowed down and in small batches, so the build lasts long enough to watch.
    const v2 = await startTestServer({ dataDir, env, modules: [usersModuleAt(2, 15)], buildBatchSize: 20 });
    try {
      await waitUntil(async () => (await healthOf(v2)).build !== null, 'the build to start');
      const during: number[] = [];
      let building = true;
      let created = 0;
      const writer = (async () => {
        while (building) await createUser(v2, `live${created++}`);
      })();
      const progress: { applied: number; total: number }[] = [];
      const gauges: { state?: number; applied?: number; version?: number }[] = [];
      while (building) {
        const count = await totalCount(v2);
        const health = await healthOf(v2);
        if (health.build) {
          during.push(count);
          progress.push({ applied: health.build.applied, total: health.build.total });
          // The live read model is the old version's until the switch.
          expect(health.version).toBe(1);
          expect(health.build.version).toBe(2);
          const metrics = await scrape(v2.url);
          const users = { projection: 'users' };
          gauges.push({
            state: metrics.value('cqrs_projection_build_state', users),
            applied: metrics.value('cqrs_projection_build_applied_events', users),
            version: metrics.value('cqrs_projection_version', users),
          });
        } else {
          building = false;
        }
        // Read from the old, complete read model: every seeded user is there, renamed.
        const { body } = await gql<{ user: { username: string } | null }>(v2.url, `{ user(id: "seed${seeded - 1}") { username } }`);
        expect(body.data?.user?.username).toBe(`seed${seeded - 1}_r`);
      }
      await writer;
      expect(during.length).toBeGreaterThan(1);
      // Never below the live count when the build began, and never down: a half-built model would show fewer.
      expect(Math.min(...during)).toBeGreaterThanOrEqual(seeded);
      for (let i = 1; i < during.length; i++) expect(during[i]).toBeGreaterThanOrEqual(during[i - 1]!);
      expect(progress.some((p) => p.applied < p.total)).toBe(true);
      // The same progress in /metrics: building (1) or switching (2), events applied, live version 1.
      expect(gauges.some((g) => g.state === 1 && (g.applied ?? 0) > 0 && g.version === 1)).toBe(true);

      // Switched: the new version has every event, those written during the build too.
      await waitUntil(async () => (await healthOf(v2)).lag === 0, 'the projection to catch up');
      const after = await healthOf(v2);
      expect(after, JSON.stringify(after)).toMatchObject({ version: 2, build: null });
      const metrics = await scrape(v2.url);
      expect(metrics.value('cqrs_projection_build_state', { projection: 'users' })).toBe(0);
      expect(metrics.value('cqrs_projection_version', { projection: 'users' })).toBe(2);
      expect(metrics.value('cqrs_projection_build_applied_events', { projection: 'users' })).toBeUndefined();
      expect(await totalCount(v2)).toBe(seeded + created);
      const { body } = await gql<{ users: { edges: { node: { id: string; username: string } }[] } }>(v2.url, '{ users(first: 100) { edges { node { id username } } } }');
      // The oldest hundred are seeded users, each renamed: the new version applied their updates too.
      const oldest = body.data!.users.edges.map((e) => e.node.username);
      expect(oldest).toHaveLength(100);
      for (const username of oldest) expect(username).toMatch(/^seed\d+_r$/);
      const { body: last } = await gql<{ user: { username: string } | null }>(v2.url, `{ user(id: "live${created - 1}") { username } }`);
      expect(last.data?.user?.username).toBe(`live${created - 1}`);
    } finally {
      await v2.close();
    }

    // The same version again: nothing to build.
    const again = await startTestServer({ dataDir, env, modules: [usersModuleAt(2)] });
    try {
      expect(await healthOf(again)).toMatchObject({ version: 2, build: null });
      expect(await totalCount(again)).toBeGreaterThan(seeded);
    } finally {
      await again.close();
    }
  });
});
