import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import type { ProjectionSink } from '../../kernel/projector.js';
import { inTransaction, migrate, type PgClient, type PgMigration, type PgPool } from './database.js';
import { createNotificationListener } from './notifications.js';
import { pgPosition, pgPositionParts } from './position.js';

export const CHECKPOINTS_CHANNEL = 'cqrs_checkpoints';

/** Thrown inside a batch's transaction to roll it back when another runner moved the checkpoint. */
const CHECKPOINT_MOVED = Symbol('checkpoint moved');

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
  const read = async (): Promise<Position> => {
    const { rows } = await pool.query<{ transaction_id: string; position: string }>(
      'SELECT transaction_id::text, position::text FROM projection_checkpoints WHERE name = $1',
      [name],
    );
    const row = rows[0];
    // A checkpoint never written and one at (0, 0) (after a reset) are both the start of the log.
    return !row || (row.transaction_id === '0' && row.position === '0') ? LOG_START : pgPosition(row.transaction_id, row.position);
  };
  /**
   * Moves the checkpoint to `to` if it still stands at `from` (when given), in one round trip.
   * The notification is delivered at commit, so instances that do not run this projection
   * learn it moved.
   */
  const move = async (client: PgClient, to: Position, from?: Position): Promise<boolean> => {
    const target = pgPositionParts(to);
    const expected = from === undefined ? null : pgPositionParts(from);
    const { rowCount } = await client.query(
      `WITH moved AS (
         INSERT INTO projection_checkpoints AS c (name, transaction_id, position) VALUES ($1, $2::xid8, $3::bigint)
         ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position
          WHERE $5::xid8 IS NULL OR (c.transaction_id, c.position) = ($5::xid8, $6::bigint)
         RETURNING 1)
       SELECT pg_notify($4, $1) FROM moved`,
      [name, target.transactionId, target.sequence, CHECKPOINTS_CHANNEL, expected?.transactionId ?? null, expected?.sequence ?? null],
    );
    return rowCount === 1;
  };

  return {
    name,
    checkpoint: read,
    apply: async (events, from) => {
      if (events.length === 0) return true;
      try {
        return await inTransaction(pool, async (client) => {
          await projection.apply(client, events);
          // The guard comes last and waits on the checkpoint's row lock: of two instances that both
          // believe they lead, the second finds the checkpoint moved and rolls its batch back, so a
          // batch is applied once. (Checking first would cost a round trip per batch.)
          if (!(await move(client, events[events.length - 1]!.position, from))) throw CHECKPOINT_MOVED;
          return true;
        });
      } catch (error) {
        if (error === CHECKPOINT_MOVED) return false;
        throw error;
      }
    },
    reset: async () => {
      await inTransaction(pool, async (client) => {
        await projection.reset(client);
        await move(client, LOG_START);
      });
    },
    onCheckpointMoved: (listener) => {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
  };
}
