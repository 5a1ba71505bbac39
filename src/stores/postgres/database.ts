import { randomUUID } from 'node:crypto';
import pg from 'pg';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/** The session setting the append functions put in their NOTIFY's payload (event store migration 8). */
export const INSTANCE_SETTING = 'cqrs.instance';

const instanceNames = new WeakMap<PgPool, string>();

/**
 * Names a new session after its pool, so an instance's appends announce who
 * wrote them and the instance can skip its own NOTIFY's echo. The pool hands
 * the connection out only once this has run (a failure ends the connection).
 * Not the `options` startup parameter: it would replace the user's PGOPTIONS,
 * and an `options` in the URL would replace it. Never application_name, which
 * the user may set in the URL for every instance alike: a name two instances
 * share loses wake-ups, while a session with no name only wakes everyone.
 */
const nameSession = async (client: pg.ClientBase, name: string) => {
  await client.query('SELECT set_config($1, $2, false)', [INSTANCE_SETTING, name]);
};

/**
 * node-postgres returns bigint and xid8 as strings by default, which is what
 * positions need (they exceed 2^53 in principle). Counts are cast to int in SQL.
 */
export function openPostgres(connectionString: string, options: { poolSize?: number; applicationName?: string } = {}): PgPool {
  const name = randomUUID();
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'cqrs-graphql',
    onConnect: (client) => nameSession(client, name),
  });
  instanceNames.set(pool, name);
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/**
 * The name the pool's sessions put in their appends' notifications, if
 * `openPostgres` opened it. A pool is one instance: whatever appends through
 * it must also signal that instance's listeners itself (the event store does,
 * at commit), since they skip the echo.
 */
export const instanceNameOf = (pool: PgPool): string | undefined => instanceNames.get(pool);

export async function inTransaction<T>(pool: PgPool, work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export type PgMigration = Readonly<{ version: number; description: string; sql: string }>;

/** Advisory-lock namespace of this application; the second key names what is locked. */
export const LOCK_NAMESPACE = 0x43515253; // 'CQRS'
const MIGRATION_LOCK = 0;

/**
 * Applies the migrations of `component` newer than its recorded version, in
 * one transaction under an advisory lock, so instances starting at the same
 * moment migrate once and the others see the result. A database migrated by
 * a newer build is refused rather than misread.
 */
export async function migrate(pool: PgPool, component: string, migrations: readonly PgMigration[]): Promise<void> {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_versions (component text PRIMARY KEY, version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_versions WHERE component = $1', [component]);
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new Error(`${component} has schema version ${current}; this build knows up to ${latest}. Upgrade the server.`);
    }
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
    }
    if (latest > current) {
      await client.query(
        `INSERT INTO schema_versions (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
        [component, latest],
      );
    }
  });
}
