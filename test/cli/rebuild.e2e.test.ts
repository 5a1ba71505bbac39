import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { gql, startTestServer } from '../support/server.js';

const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const USERS_QUERY = '{ users(first: 100) { totalCount edges { node { id username email version } } } }';

describe('command line', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('rebuilds the read model from the event store with progress, to the same rows', async () => {
    const server = await startTestServer({ dataDir });
    for (let i = 0; i < 30; i++) {
      await gql(server.url, `mutation { createUser(input: { id: "u${i}", username: "user${i}", email: "u${i}@example.com" }) { __typename } }`);
    }
    await gql(server.url, 'mutation { updateUser(input: { id: "u3", username: "renamed" }) { __typename } }');
    const before = await gql(server.url, USERS_QUERY);
    await server.stop();

    const result = await cli(['rebuild'], { DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/users \[#+\] 100\.0%/);
    expect(result.stderr).toMatch(/users: 31 events in/);

    const reopened = await startTestServer({ dataDir });
    const after = await gql(reopened.url, USERS_QUERY);
    await reopened.stop();
    expect(after.body).toEqual(before.body);
    expect((after.body.data as { users: { totalCount: number } }).users.totalCount).toBe(30);
  });

  it('empties snapshots.db as it rebuilds (after a power cut it may be ahead of events.db), and the server refills it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-cli-snapshots-'));
    try {
      const env = { SNAPSHOT_EVERY: '2' };
      const server = await startTestServer({ dataDir: dir, env });
      await gql(server.url, 'mutation { createUser(input: { id: "s1", username: "snap1", email: "s1@example.com" }) { __typename } }');
      for (let i = 0; i < 5; i++) await gql(server.url, `mutation { updateUser(input: { id: "s1", username: "snap1_${i}" }) { __typename } }`);
      await server.system.streamFolds.settled();
      expect(await server.system.snapshots.loadSnapshot('user-s1', 'user-state@2')).toMatchObject({ version: 6 });
      await server.stop();

      expect((await cli(['rebuild'], { DATA_DIR: dir })).code).toBe(0);

      const reopened = await startTestServer({ dataDir: dir, env });
      try {
        expect(await reopened.system.snapshots.loadSnapshot('user-s1', 'user-state@2')).toBeNull();
        const latest = await gql(reopened.url, '{ user(id: "s1", asOf: { time: "2999-01-01T00:00:00Z" }) { username version } }');
        expect(latest.body).toEqual({ data: { user: { username: 'snap1_4', version: 6 } }, extensions: { position: expect.any(String) } });
        await reopened.system.streamFolds.settled();
        expect(await reopened.system.snapshots.loadSnapshot('user-s1', 'user-view@2')).toMatchObject({ version: 6 });
      } finally {
        await reopened.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown projection name and bad settings with a clear message', async () => {
    const unknown = await cli(['rebuild', 'nope'], { DATA_DIR: dataDir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown projection nope');

    const badPort = await cli(['serve'], { DATA_DIR: dataDir, PORT: 'seventy' });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('PORT="seventy"');
  });

  it('lists every setting with --help', async () => {
    const help = await cli(['--help'], {});
    expect(help.code).toBe(0);
    for (const name of ['HOST', 'PORT', 'DATA_DIR', 'DATABASE_URL', 'DURABILITY', 'READ_YOUR_WRITES_TIMEOUT_MS']) {
      expect(help.stdout).toContain(name);
    }
  });
});
