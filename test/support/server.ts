import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/server/config.js';
import { modules as serverModules } from '../../src/modules.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/server.js';
import { createTestDatabase } from './postgres.js';
import { TEST_MASTER_KEY_BASE64 } from './master-key.js';

export type TestServer = RunningServer &
  Readonly<{
    /** http://127.0.0.1:PORT/graphql */
    url: string;
    /** ws://127.0.0.1:PORT/graphql */
    wsUrl: string;
    dataDir: string;
    /** Read-model queries made so far (to check DataLoader batching). */
    readModelQueries: () => number;
    /** Closes the server and deletes its data directory. */
    stop: () => Promise<void>;
  }>;

/**
 * A real server on an ephemeral loopback port with its own SQLite files in a
 * temporary directory, or (in the `postgres` test project, TEST_STORE=postgres)
 * its own PostgreSQL database. `env` overrides settings (same names as the README's
 * configuration table); pass `dataDir` to reopen an existing store, and
 * `extraProjections` to run test-only read models beside the real ones.
 * `modules` replaces the server's own list (src/modules.ts), e.g. to wire in a test-only module.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    dataDir?: string;
    extraProjections?: StartOptions['extraProjections'];
    modules?: StartOptions['modules'];
    buildBatchSize?: number;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cqrs-graphql-test-'));
  const database = process.env['TEST_STORE'] === 'postgres' && !options.env?.['DATABASE_URL'] ? await createTestDatabase('api') : null;
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(database || options.env?.['DATABASE_URL'] ? { MASTER_KEY: TEST_MASTER_KEY_BASE64 } : {}),
    ...options.env,
  });
  let queries = 0;
  const server = await startServer(config, {
    logger: createLogger(config.LOG_LEVEL),
    modules: options.modules ?? serverModules,
    onReadModelQuery: () => (queries += 1),
    ...(options.extraProjections ? { extraProjections: options.extraProjections } : {}),
    ...(options.buildBatchSize ? { buildBatchSize: options.buildBatchSize } : {}),
  });
  return {
    ...server,
    wsUrl: server.url.replace(/^http/, 'ws'),
    dataDir,
    readModelQueries: () => queries,
    stop: async () => {
      await server.close();
      await database?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POSTs a GraphQL operation as JSON and returns the status and parsed body. */
export async function gql<T = unknown>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as never };
}
