/** Time travel on the real server: SQLite here, PostgreSQL in the `postgres` project (vitest.config.ts). */
import { execute } from '../support/graphql.js';
import { gql, startTestServer } from '../support/server.js';
import { describeTimeTravel, TEST_SNAPSHOT_EVERY } from './time-travel.cases.js';

describeTimeTravel(async () => {
  const server = await startTestServer({ env: { SNAPSHOT_EVERY: TEST_SNAPSHOT_EVERY } });
  return {
    execute: (document, variables) => execute(server.url, document, variables),
    gql: (query, variables) => gql(server.url, query, variables),
    system: server.system,
    // A position of the other kind of store than the one this server runs on.
    foreignPosition: process.env['TEST_STORE'] === 'postgres' ? 'sqlite:5' : 'pg:00000000000000000742.0000000000000000001',
    close: () => server.stop(),
  };
});
