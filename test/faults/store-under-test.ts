import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import type { LogSource } from './store-check.js';

/** The fault suites run once per store. */
export const STORES = [
  { store: 'SQLite', postgres: false },
  { store: 'PostgreSQL', postgres: true },
] as const;

/**
 * Registers, in the calling `describe`, a store for real server processes: a
 * SQLite DATA_DIR, or a fresh PostgreSQL database per test. Every process
 * spawned is killed after its test.
 */
export function storeUnderTest(name: string, postgres: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), `cqrs-graphql-${name}-`));
  const running: ServerProcess[] = [];
  const skip = postgres && postgresUnavailable !== null;
  let source: LogSource = { kind: 'sqlite', dataDir };
  let env: Record<string, string> = {};
  let dropDatabase = async () => {};
  beforeEach(async () => {
    if (!postgres || skip) return;
    const database = await createTestDatabase(name);
    source = { kind: 'postgres', url: database.url };
    env = { DATABASE_URL: database.url };
    dropDatabase = database.drop;
  });
  afterEach(async () => {
    // Killing a process that already exited is a no-op.
    for (const server of running.splice(0)) server.child.kill('SIGKILL');
    await dropDatabase();
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    /** True when this is the PostgreSQL variant on a machine without PostgreSQL. */
    skip,
    source: () => source,
    /** `settings` beside the store's own (e.g. the JWT settings a test's tokens are signed for). */
    spawn: async (settings: Record<string, string> = {}) => {
      const server = await spawnServer(dataDir, { ...env, ...settings });
      running.push(server);
      return server;
    },
  };
}
