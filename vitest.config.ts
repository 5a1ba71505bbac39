import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

const POSTGRES_API_SUITES = [
  'test/integration/api.e2e.test.ts',
  'test/integration/subscriptions.e2e.test.ts',
  'test/integration/read-your-writes.e2e.test.ts',
  'test/integration/global-ids.e2e.test.ts',
  'test/integration/event-users.e2e.test.ts',
  'test/integration/sse-resume.e2e.test.ts',
  // Old event versions read by every reader, and events no reader may use, on each store.
  'test/integration/event-versions.e2e.test.ts',
  // Personal fields reach the log only sealed.
  'test/integration/personal-data-at-rest.e2e.test.ts',
  'test/integration/history.e2e.test.ts',
  'test/integration/time-travel.e2e.test.ts',
  // Idempotency keys expire and their records are pruned, on each store's SQL.
  'test/integration/idempotency-retention.e2e.test.ts',
  // Erased users read as erased through every query, on each store's read model.
  'test/integration/erasure.e2e.test.ts',
  // No byte of an erased user is left in the store's tables, on each store.
  'test/integration/erasure-bytes.e2e.test.ts',
  // The user search read model: its own projection, SQL and indexes on each store.
  'test/integration/user-search.e2e.test.ts',
  // The response cache and the position header, on each store's positions and checkpoint notifications.
  'test/integration/response-cache.e2e.test.ts',
  'test/integration/positions.e2e.test.ts',
  'test/integration/response-cache-model.e2e.test.ts',
  // Real client libraries: their paging, resuming and cache updates ride on each store's cursors and positions.
  'test/clients/apollo.e2e.test.ts',
  'test/clients/urql.e2e.test.ts',
  'test/clients/relay.e2e.test.ts',
  'test/clients/reconnect.e2e.test.ts',
  'test/clients/eventsource.e2e.test.ts',
  // A projection version bump built beside the live read model and switched, under write load.
  'test/blue-green/version-bump.e2e.test.ts',
];

export default defineConfig({
  resolve: {
    // One copy of graphql for everything: vite would otherwise load graphql's ESM build for our
    // files while graphql-yoga (loaded by Node) gets the CommonJS one, and instanceof checks
    // across the two fail (yoga then masks our own GraphQLErrors).
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['test/setup/postgres-server.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real servers and SQLite files; keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      // The API, subscription and read-your-writes suites again, each server on its own PostgreSQL database.
      {
        extends: true,
        test: { name: 'postgres', include: POSTGRES_API_SUITES, env: { TEST_STORE: 'postgres' } },
      },
    ],
  },
});
