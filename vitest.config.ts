import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql for everything: vite would otherwise load graphql's ESM build for our
    // files while graphql-yoga (loaded by Node) gets the CommonJS one, and instanceof checks
    // across the two fail (yoga then masks our own GraphQLErrors).
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/postgres-server.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real servers and SQLite files; keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
  },
});
