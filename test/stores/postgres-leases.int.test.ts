import { describe } from 'vitest';
import { LOCK_NAMESPACE, openPostgres, type PgPool } from '../../src/stores/postgres/database.js';
import { createPostgresLeases } from '../../src/stores/postgres/leases.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { describeLeasesContract } from './leases.contract.js';

describe.skipIf(postgresUnavailable !== null)('PostgreSQL leases', () => {
  describeLeasesContract('PostgreSQL', {
    type: 'shared',
    create: async () => {
      const database = await createTestDatabase('leases');
      // Each instance its own pool, as each process has; `admin` plays the operator who ends a session.
      const admin = openPostgres(database.url, { poolSize: 1 });
      const pools: PgPool[] = [admin];
      return {
        instance: () => {
          const pool = openPostgres(database.url, { poolSize: 10 });
          pools.push(pool);
          return createPostgresLeases(pool);
        },
        loseLease: async (name) => {
          // The advisory lock of (LOCK_NAMESPACE, hashtext('lease:<name>')) as pg_locks shows it: both keys as unsigned oids.
          const { rows } = await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_locks
              WHERE locktype = 'advisory' AND granted AND objsubid = 2
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND classid::bigint = $1 AND objid::bigint = (hashtext($2)::bigint & 4294967295)`,
            [LOCK_NAMESPACE, `lease:${name}`],
          );
          if (rows.length !== 1) throw new Error(`expected one session holding ${name}, found ${rows.length}`);
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        },
        cleanup: async () => {
          await Promise.all(pools.map((pool) => pool.end()));
          await database.drop();
        },
      };
    },
  });
});
