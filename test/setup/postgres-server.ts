/**
 * Vitest global setup: one throwaway PostgreSQL server for the whole run
 * (scripts/throwaway-postgres.ts), removed afterwards. Each suite makes its
 * own database on it (test/support/postgres.ts).
 *
 * Without PostgreSQL binaries the suites that need it are skipped with the
 * reason; with REQUIRE_POSTGRES=1 (set by .ci/run) that is a failure instead.
 */
import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres } from '../../scripts/throwaway-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    postgresUnavailable: string | null;
  }
}

export default async function setup(project: TestProject) {
  // Durability is not under test here (the crash tests kill the API server, not PostgreSQL).
  const server = await startThrowawayPostgres(['fsync=off']);
  if (!server) {
    const reason = 'PostgreSQL server binaries (initdb, pg_ctl) not found; install PostgreSQL 15 or set PG_BIN_DIR';
    if (process.env['REQUIRE_POSTGRES'] === '1') throw new Error(`REQUIRE_POSTGRES=1 but ${reason}`);
    project.provide('postgresUrl', null);
    project.provide('postgresUnavailable', reason);
    return;
  }
  project.provide('postgresUrl', server.url);
  project.provide('postgresUnavailable', null);
  return () => server.stop();
}
