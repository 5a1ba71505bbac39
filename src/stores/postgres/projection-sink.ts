import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import type { ProjectionSink } from '../../kernel/projector.js';
import { inTransaction, migrate, type PgClient, type PgMigration, type PgPool } from './database.js';
import { createNotificationListener } from './notifications.js';
import { pgPosition, pgPositionParts } from './position.js';

export const CHECKPOINTS_CHANNEL = 'cqrs_checkpoints';

/**
 * A projection into PostgreSQL. `apply` gets a whole batch inside the
 * transaction that also moves the checkpoint, so it can read and write rows
 * in a few statements rather than a round trip per event.
 */
export type PostgresProjection = Readonly<{
  name: string;
  migrations: readonly PgMigration[];
  apply: (client: PgClient, events: readonly StoredEvent[]) => Promise<void>;
  /** Deletes every row this projection owns. */
  reset: (client: PgClient) => Promise<void>;
}>;

const checkpointMigrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'projection checkpoints as (transaction id, sequence)',
    sql: `CREATE TABLE projection_checkpoints (
            name           text   PRIMARY KEY,
            transaction_id xid8   NOT NULL,
            position       bigint NOT NULL
          )`,
  },
];

export async function preparePostgresReadModel(pool: PgPool, projections: readonly PostgresProjection[]): Promise<void> {
  await migrate(pool, 'projection-checkpoints', checkpointMigrations);
  for (const projection of projections) await migrate(pool, `projection:${projection.name}`, projection.migrations);
}

export async function createPostgresProjectionSinks(
  pool: PgPool,
  connectionString: string,
  projections: readonly PostgresProjection[],
): Promise<{ sinks: ProjectionSink[]; close: () => Promise<void> }> {
  const watchers = new Set<() => void>();
  const channel = await createNotificationListener(connectionString, [CHECKPOINTS_CHANNEL], () => {
    for (const watcher of watchers) watcher();
  });
  const sinks = projections.map((projection) => createSink(pool, projection, watchers));
  return { sinks, close: () => channel.close() };
}

function createSink(pool: PgPool, projection: PostgresProjection, watchers: Set<() => void>): ProjectionSink {
  const { name } = projection;
  const read = async (client: PgClient | PgPool, lock: boolean): Promise<Position> => {
    const { rows } = await client.query<{ transaction_id: string; position: string }>(
      `SELECT transaction_id::text, position::text FROM projection_checkpoints WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    const row = rows[0];
    // A checkpoint never written and one at (0, 0) (after a reset) are both the start of the log.
    return !row || (row.transaction_id === '0' && row.position === '0') ? LOG_START : pgPosition(row.transaction_id, row.position);
  };
  const write = async (client: PgClient, position: Position) => {
    const { transactionId, sequence } = pgPositionParts(position);
    await client.query(
      `INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, $2::xid8, $3::bigint)
       ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position`,
      [name, transactionId, sequence],
    );
    // Delivered at commit: instances that do not run this projection learn it moved.
    await client.query('SELECT pg_notify($1, $2)', [CHECKPOINTS_CHANNEL, name]);
  };

  return {
    name,
    checkpoint: () => read(pool, false),
    apply: async (events, from) => {
      if (events.length === 0) return true;
      return inTransaction(pool, async (client) => {
        await client.query("INSERT INTO projection_checkpoints (name, transaction_id, position) VALUES ($1, '0'::xid8, 0) ON CONFLICT DO NOTHING", [
          name,
        ]);
        // The row lock serialises runners, so a batch is applied once even if two instances believe they lead.
        if ((await read(client, true)) !== from) return false;
        await projection.apply(client, events);
        await write(client, events[events.length - 1]!.position);
        return true;
      });
    },
    reset: async () => {
      await inTransaction(pool, async (client) => {
        await projection.reset(client);
        await write(client, LOG_START);
      });
    },
    onCheckpointMoved: (listener) => {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
  };
}
