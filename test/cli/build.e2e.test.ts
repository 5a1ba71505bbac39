import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../support/process.js';
import { gql } from '../support/server.js';

const run = promisify(execFile);

describe('npm start runs the esbuild bundle', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-build-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('builds dist/main.js, which serves mutations, queries and the read model like the source', async () => {
    await run('npm', ['run', 'build', '--silent']);
    const server = await spawnServer(dataDir, {}, ['--enable-source-maps', 'dist/main.js']);
    try {
      const created = await gql(server.url, 'mutation { createUser(input: { id: "b1", username: "built", email: "b1@example.com" }) { __typename } }');
      expect(created).toEqual({ status: 200, body: { data: { createUser: { __typename: 'CreateUserSuccess' } } } });
      const read = await gql(server.url, '{ user(id: "b1") { username version } }');
      expect(read).toEqual({ status: 200, body: { data: { user: { username: 'built', version: 1 } }, extensions: { position: expect.any(String) } } });
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 60_000);
});
