import pg from 'pg';
import type { BesideBuild, BlueGreenSink } from '../../kernel/blue-green.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { inTransaction, type PgPool } from './database.js';
import { pgPositionParts } from './position.js';
import { CHECKPOINTS_CHANNEL, createPostgresProjectionSink, preparePostgresReadModel, type PostgresProjection } from './projection-sink.js';

/** Builds announce their checkpoint here, where nobody listens: only the live checkpoint wakes other instances. */
const BUILD_CHANNEL = 'cqrs_build_checkpoints';
/** Tables every schema with a read model has, which no projection owns. */
const SHARED_TABLES = ['projection_checkpoints', 'schema_versions'];

/** The schema a projection is built in: `cqrs_build_<name>`. */
export const buildSchemaOf = (name: string) => `cqrs_build_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;

/**
 * Blue/green on PostgreSQL: the build is a schema of its own,
 * `cqrs_build_<projection>`, filled through a small pool whose connections
 * have `search_path` set to it, so the projection's own migrations and
 * statements (which name their tables unqualified) create and write the
 * tables there, with a checkpoint table of their own. The tables it owns are
 * the tables of that schema, which is why nothing has to declare them.
 *
 * The switch is one transaction: lock the live checkpoint row, drop the live
 * tables, move the built ones into the live schema (ALTER TABLE ... SET
 * SCHEMA: a catalogue change, no copy, however many rows), move the
 * checkpoint with a new generation (so a batch another instance applies on
 * the old tables finds it moved and writes nothing) and the version, drop
 * the build schema, NOTIFY. Readers wait on the tables' locks for the moment
 * it commits, then see the new tables; nothing in between.
 */
export function createPostgresBlueGreen(options: Readonly<{ pool: PgPool; url: string; projection: PostgresProjection }>): BlueGreenSink {
  const { pool, url, projection } = options;
  const { name } = projection;
  const version = projection.version ?? 1;
  const schema = buildSchemaOf(name);
  const quoted = pg.escapeIdentifier(schema);
  const dropBuild = () => pool.query(`DROP SCHEMA IF EXISTS ${quoted} CASCADE`);

  return {
    version,
    liveVersion: async () => {
      const { rows } = await pool.query<{ version: number | null }>('SELECT version FROM projection_checkpoints WHERE name = $1', [name]);
      return rows.length === 0 ? null : (rows[0]!.version ?? 1);
    },
    adopt: async () => {
      await pool.query(
        `INSERT INTO projection_checkpoints (name, generation, transaction_id, position, version) VALUES ($1, 0, '0', 0, $2)
         ON CONFLICT (name) DO NOTHING`,
        [name, version],
      );
    },
    beginBuild: async (): Promise<BesideBuild> => {
      await dropBuild();
      await pool.query(`CREATE SCHEMA ${quoted}`);
      const buildPool = new pg.Pool({ connectionString: url, max: 2, application_name: 'cqrs-graphql-build', options: `-c search_path=${schema}` });
      buildPool.on('error', () => {});
      let sink;
      try {
        await preparePostgresReadModel(buildPool, [projection]);
        sink = createPostgresProjectionSink(buildPool, projection, new Set(), BUILD_CHANNEL);
      } catch (error) {
        await buildPool.end().catch(() => {});
        await dropBuild().catch(() => {});
        throw error;
      }
      return {
        apply: (events, from) => sink.apply(events, from),
        switchOver: async (at) => {
          await buildPool.end();
          await switchOver(pool, schema, name, version, at);
        },
        discard: async () => {
          await buildPool.end().catch(() => {});
          await dropBuild();
        },
      };
    },
  };
}

async function switchOver(pool: PgPool, schema: string, name: string, version: number, at: Position): Promise<void> {
  const quoted = pg.escapeIdentifier(schema);
  await inTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE', [name]);
    const target = at === LOG_START ? { transactionId: '0', sequence: '0' } : pgPositionParts(at);
    // Another process that built into the same schema meanwhile would have moved its checkpoint elsewhere.
    const built = await client.query(`SELECT 1 FROM ${quoted}.projection_checkpoints WHERE name = $1 AND transaction_id = $2::xid8 AND position = $3::bigint`, [
      name,
      target.transactionId,
      target.sequence,
    ]);
    if (at !== LOG_START && built.rowCount !== 1) throw new Error(`the build of ${name} is not where this process left it: another instance built it too`);
    const { rows: live } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
    const liveSchema = pg.escapeIdentifier(live[0]!.schema);
    const { rows: tables } = await client.query<{ table: string }>('SELECT tablename AS table FROM pg_tables WHERE schemaname = $1', [schema]);
    for (const { table } of tables) {
      if (SHARED_TABLES.includes(table)) continue;
      await client.query(`DROP TABLE IF EXISTS ${liveSchema}.${pg.escapeIdentifier(table)} CASCADE`);
      await client.query(`ALTER TABLE ${quoted}.${pg.escapeIdentifier(table)} SET SCHEMA ${liveSchema}`);
    }
    await client.query(
      `WITH moved AS (
         INSERT INTO projection_checkpoints AS c (name, generation, transaction_id, position, version) VALUES ($1, 0, $2::xid8, $3::bigint, $4)
         ON CONFLICT (name) DO UPDATE SET generation = c.generation + 1, transaction_id = excluded.transaction_id,
                                          position = excluded.position, version = excluded.version
         RETURNING 1)
       SELECT pg_notify($5, $1) FROM moved`,
      [name, target.transactionId, target.sequence, version, CHECKPOINTS_CHANNEL],
    );
    await client.query(`DROP SCHEMA ${quoted} CASCADE`);
  });
}
