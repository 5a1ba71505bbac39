import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { eventsHandledBy, type ProjectionSink } from '../../kernel/projector.js';
import { inTransaction, migrate, type PgClient, type PgMigration, type PgPool } from './database.js';
import { createNotificationListener, type NotificationListener } from './notifications.js';
import { pgPosition, pgPositionParts } from './position.js';

export const CHECKPOINTS_CHANNEL = 'cqrs_checkpoints';

/** Adds a value to the statement's parameters and returns its placeholder (`$3`). */
export type PgParam = (value: unknown) => string;

/**
 * One data-modifying statement (an INSERT, UPDATE or DELETE) of a batch,
 * given `guard`, an SQL condition it must put in its WHERE clause: the write
 * must do nothing unless the guard holds.
 */
export type PgWrite = (guard: string, param: PgParam) => string;

/**
 * A projection into PostgreSQL, as a read and a write per batch, so that a
 * batch costs two round trips and no transaction of its own.
 *
 * `read` returns one SELECT (or nothing); the sink runs it in the same
 * statement as the checkpoint read, so its rows are the read model exactly
 * as of the checkpoint the batch starts from. `write` folds the batch into
 * those rows and returns its writes; the sink runs them as one statement with
 * the checkpoint move, guarded, so they take effect only if the checkpoint
 * still stands there — and then the rows they were built on are still the
 * rows in the table, since only a batch that moves the checkpoint writes them.
 */
export type PostgresProjection = Readonly<{
  name: string;
  /**
   * Bump it when what `write` stores changes: the instance leading the
   * projection builds the new version beside the live one and switches
   * (src/stores/postgres/blue-green.ts). Its `migrations`, run in an empty
   * schema, must create every table it owns.
   * @default 1
   */
  version?: number;
  /** The only events `read` and `write` are given; the checkpoint still moves past the others. */
  eventTypes: readonly string[];
  migrations: readonly PgMigration[];
  read: (events: readonly StoredEvent[], param: PgParam) => string | null;
  /** `rows` are what `read` selected, each row as a JSON object (`json_agg`). */
  write: (events: readonly StoredEvent[], rows: readonly Record<string, unknown>[]) => readonly PgWrite[];
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
  {
    version: 2,
    description: 'a generation that each reset increments',
    // Within a generation a checkpoint only moves forward; a reset and a replay could bring it
    // back to a position it held before, and the generation tells those two moments apart.
    sql: 'ALTER TABLE projection_checkpoints ADD COLUMN generation bigint NOT NULL DEFAULT 0',
  },
  {
    version: 3,
    description: 'the version of the projection that built each read model',
    // NULL: built before projections had versions, which is version 1.
    sql: 'ALTER TABLE projection_checkpoints ADD COLUMN version integer',
  },
];

export async function preparePostgresReadModel(pool: PgPool, projections: readonly PostgresProjection[]): Promise<void> {
  await migrate(pool, 'projection-checkpoints', checkpointMigrations);
  for (const projection of projections) await migrate(pool, `projection:${projection.name}`, projection.migrations);
}

/** `notifications`: the instance's shared listening connection; without one the sinks open (and close) their own. */
export async function createPostgresProjectionSinks(
  pool: PgPool,
  connectionString: string,
  projections: readonly PostgresProjection[],
  notifications?: NotificationListener,
): Promise<{ sinks: ProjectionSink[]; close: () => Promise<void> }> {
  const watchers = new Set<() => void>();
  const listener = notifications ?? (await createNotificationListener(connectionString));
  const stopListening = await listener.listen(CHECKPOINTS_CHANNEL, () => {
    for (const watcher of watchers) watcher();
  });
  const sinks = projections.map((projection) => createPostgresProjectionSink(pool, projection, watchers));
  return {
    sinks,
    close: async () => {
      stopListening();
      if (!notifications) await listener.close();
    },
  };
}

/** `channel`: where each checkpoint move is announced; a build beside announces its own elsewhere. */
export function createPostgresProjectionSink(
  pool: PgPool,
  projection: PostgresProjection,
  watchers: Set<() => void>,
  channel = CHECKPOINTS_CHANNEL,
): ProjectionSink {
  const { name } = projection;
  const version = projection.version ?? 1;
  const statementName = statementNames(`cqrs_sink_${name}`);
  const handled = eventsHandledBy(projection.eventTypes);
  const read = async (): Promise<Position> => {
    const { rows } = await pool.query<{ transaction_id: string; position: string }>(
      'SELECT transaction_id::text, position::text FROM projection_checkpoints WHERE name = $1',
      [name],
    );
    const row = rows[0];
    return row ? checkpointPosition(row.transaction_id, row.position) : LOG_START;
  };

  /** The checkpoint and the rows the batch reads, from one snapshot: one statement. */
  const snapshot = async (events: readonly StoredEvent[]) => {
    const params = parameters();
    const checkpoint = `SELECT json_build_array(generation::text, transaction_id::text, position::text)
                          FROM projection_checkpoints WHERE name = ${params.add(name)}`;
    const rowsRead = events.length === 0 ? null : projection.read(events, params.add);
    const text = `SELECT (${checkpoint}) AS checkpoint,
              ${rowsRead === null ? 'NULL' : `(SELECT coalesce(json_agg(r), '[]'::json) FROM (${rowsRead}) r)`} AS rows`;
    const { rows } = await pool.query<{ checkpoint: [string, string, string] | null; rows: Record<string, unknown>[] | null }>({
      name: statementName(text),
      text,
      values: params.values,
    });
    const [generation, transactionId, sequence] = rows[0]!.checkpoint ?? ['0', '0', '0'];
    return { generation, position: checkpointPosition(transactionId, sequence), rows: rows[0]!.rows ?? [] };
  };

  return {
    name,
    checkpoint: read,
    apply: async (events, from) => {
      if (events.length === 0) return true;
      const relevant = handled(events);
      const current = await snapshot(relevant);
      if (current.position !== from) return false;
      const writes = relevant.length === 0 ? [] : projection.write(relevant, current.rows);
      const params = parameters();
      const target = pgPositionParts(events[events.length - 1]!.position);
      const start = pgPositionParts(from);
      // Waits on the checkpoint's row lock: of two instances that both believe they lead, the
      // second finds it moved once the first commits, and its writes do nothing.
      // A row written first here is a read model this code builds from the start of the log: its version is the code's.
      const moved = `INSERT INTO projection_checkpoints AS c (name, generation, transaction_id, position, version)
           VALUES (${params.add(name)}, ${params.add(current.generation)}::bigint, ${params.add(target.transactionId)}::xid8, ${params.add(target.sequence)}::bigint, ${params.add(version)}::integer)
         ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position
          WHERE (c.generation, c.transaction_id, c.position) = (excluded.generation, ${params.add(start.transactionId)}::xid8, ${params.add(start.sequence)}::bigint)
         RETURNING 1`;
      const guard = 'EXISTS (SELECT FROM moved)';
      const ctes = [`moved AS (${moved})`, ...writes.map((write, i) => `write${i} AS (${write(guard, params.add)})`)];
      // The notification is delivered at commit, so instances that do not run this projection learn it moved.
      const text = `WITH ${ctes.join(',\n')} SELECT pg_notify(${params.add(channel)}, ${params.add(name)}) FROM moved`;
      const { rowCount } = await pool.query({ name: statementName(text), text, values: params.values });
      return rowCount === 1;
    },
    reset: async () => {
      await inTransaction(pool, async (client) => {
        await projection.reset(client);
        await client.query(
          `WITH reset AS (
             INSERT INTO projection_checkpoints AS c (name, generation, transaction_id, position, version) VALUES ($1, 0, '0', 0, $3)
             ON CONFLICT (name) DO UPDATE SET generation = c.generation + 1, transaction_id = '0', position = 0, version = $3
             RETURNING 1)
           SELECT pg_notify($2, $1) FROM reset`,
          [name, channel, version],
        );
      });
    },
    onCheckpointMoved: (listener) => {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
  };
}

// A checkpoint never written and one at (0, 0) (after a reset) are both the start of the log.
const checkpointPosition = (transactionId: string, sequence: string): Position =>
  transactionId === '0' && sequence === '0' ? LOG_START : pgPosition(transactionId, sequence);

/**
 * A name for each distinct statement text, so each pooled connection parses
 * and plans a batch's statements once rather than adding PostgreSQL's
 * planning to every batch. A projection builds only a
 * few distinct texts; past `max`, statements go unnamed rather than pile up
 * in every connection.
 */
function statementNames(prefix: string, max = 32): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    const known = names.get(text);
    if (known !== undefined || names.size >= max) return known;
    const name = `${prefix}_${names.size + 1}`;
    names.set(text, name);
    return name;
  };
}

function parameters() {
  const values: unknown[] = [];
  return {
    values,
    add: (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    },
  };
}
