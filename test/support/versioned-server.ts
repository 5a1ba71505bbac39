/**
 * `src/main.ts serve` with the users projection at another version, as a
 * release that bumped it would run: for tests that spawn it as a real
 * process (kill -9 during a build). TEST_USERS_VERSION sets the version,
 * TEST_SLOW_BATCH_MS slows every batch, TEST_BUILD_BATCH_SIZE sizes a build's.
 */
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import { usersModuleAt } from './versioned-users.js';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
const server = await startServer(config, {
  logger,
  modules: [usersModuleAt(Number(process.env['TEST_USERS_VERSION'] ?? 1), Number(process.env['TEST_SLOW_BATCH_MS'] ?? 0))],
  ...(process.env['TEST_BUILD_BATCH_SIZE'] ? { buildBatchSize: Number(process.env['TEST_BUILD_BATCH_SIZE']) } : {}),
});
logger.info({ url: server.url, pid: process.pid }, `serving GraphQL at ${server.url}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
