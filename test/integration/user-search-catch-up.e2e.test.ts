/**
 * The user search added to a store that already has users: it starts at the
 * log's beginning with its own checkpoint and catches up, leaving the users
 * projection where it was. (SQLite: the same data directory is reopened.)
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modules } from '../../src/modules.js';
import { usersModule } from '../../src/users/module.js';
import { createSqliteUsersReadModel, usersProjection } from '../../src/users/read-model/sqlite.js';
import { gql, startTestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const withoutSearch = modules.map((module) =>
  // The search read model prepares its statements when opened: without its projection, it is left out too.
  module === usersModule ? { ...usersModule, sqlite: { projections: [usersProjection], readModel: createSqliteUsersReadModel } } : module,
);

type Health = { projections: { name: string; position: string; lag: number }[] };

describe('the user search on a store that already has users', () => {
  it('builds from the existing log and then answers every search', async () => {
    const before = await startTestServer({ modules: withoutSearch });
    const names = ['zeta', 'Alpha', 'mike', 'alpha2', 'Bravo'];
    try {
      for (const [i, username] of names.entries()) {
        const { body } = await gql<{ createUser: { __typename: string } }>(
          before.url,
          'mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }',
          { input: { id: `old-${i}`, username, email: `${username}@old.example` } },
        );
        expect(body.data?.createUser.__typename).toBe('CreateUserSuccess');
      }
      expect(((await (await fetch(new URL('/health', before.url))).json()) as Health).projections.map((p) => p.name)).toEqual(['users']);
    } finally {
      await before.close();
    }

    const after = await startTestServer({ dataDir: before.dataDir });
    try {
      const health = async () => ((await (await fetch(new URL('/health', after.url))).json()) as Health).projections;
      await waitUntil(async () => (await health()).every((p) => p.lag === 0), 'both projections to catch up');
      const [users, search] = await health();
      expect(search).toMatchObject({ name: 'user-search', position: users!.position });
      const { body } = await gql<{ users: { totalCount: number; edges: { node: { username: string } }[] } }>(
        after.url,
        'query { users(filter: { emailDomain: "OLD.example" }, orderBy: { field: USERNAME }) { totalCount edges { node { username } } } }',
      );
      expect(body.data?.users.edges.map((edge) => edge.node.username)).toEqual(['Alpha', 'alpha2', 'Bravo', 'mike', 'zeta']);
      expect(body.data?.users.totalCount).toBe(names.length);
    } finally {
      await after.stop();
      rmSync(before.dataDir, { recursive: true, force: true });
    }
  });
});
