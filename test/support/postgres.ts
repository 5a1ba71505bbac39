import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Null when the run has a PostgreSQL server; otherwise why the PostgreSQL suites are skipped. */
export const postgresUnavailable: string | null = inject('postgresUnavailable');

if (postgresUnavailable) console.warn(`Skipping PostgreSQL suites: ${postgresUnavailable}`);

/** A new, empty database on the run's server; dropping it ends every session still on it. */
export async function createTestDatabase(prefix = 'test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('postgresUrl');
  if (!adminUrl) throw new Error(`PostgreSQL is not available: ${postgresUnavailable}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A pool for a test's own queries on a test database. `end()` resolves before its connections have
 * closed, and the database's drop (WITH FORCE) then terminates them: without a listener that error is an
 * uncaught exception after the test (seen once in a full run, failing it with every test passed).
 */
export function openTestPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  return pool;
}
