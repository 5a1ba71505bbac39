import { readKeysetPage, type PageDirection } from '../../kernel/keyset-page.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import type { PgClient, PgPool } from '../../stores/postgres/database.js';
import type { PgWrite, PostgresProjection } from '../../stores/postgres/projection-sink.js';
import { batchPerTurn } from '../../stores/postgres/turn-batch.js';
import { userEventTypes, userIdOf } from '../user.js';
import { evolveUserView, type UserView } from '../user-view.js';
import type { UserPage, UsersReadModel } from './read-model.js';
import { toUserView, type UserRow } from './user-row.js';

const COLUMNS = 'id, username, email, erased, version, created_at, updated_at, created_position';
const MAX_LOOKUP_BATCH = 1_000;

async function selectByIds(pool: PgPool, ids: readonly string[]): Promise<UserRow[]> {
  // PostgreSQL keeps planning `= ANY($1)` afresh for a one-element array (its estimate beats the
  // generic plan's), and one id is the common batch at low load.
  const { rows } = await pool.query<UserRow>(
    ids.length === 1
      ? { name: 'users_by_id', text: `SELECT ${COLUMNS} FROM users WHERE id = $1`, values: [ids[0]] }
      : { name: 'users_by_ids', text: `SELECT ${COLUMNS} FROM users WHERE id = ANY($1::text[])`, values: [ids] },
  );
  return rows;
}

/** Nearest the page's starting cursor first, as `readKeysetPage` asks. */
async function selectPage(pool: PgPool, direction: PageDirection, count: number, after?: Position, before?: Position): Promise<UserRow[]> {
  const { rows } = await pool.query<UserRow>(
    `SELECT ${COLUMNS} FROM users
      WHERE created_position > $1 AND ($2::text IS NULL OR created_position < $2)
      ORDER BY created_position ${direction === 'forward' ? 'ASC' : 'DESC'} LIMIT $3`,
    [after ?? LOG_START, before ?? null, count],
  );
  return rows;
}

export const usersPostgresProjection: PostgresProjection = {
  name: 'users',
  eventTypes: userEventTypes,
  migrations: [
    {
      version: 1,
      description: 'users ordered by creation position, and a running count',
      sql: `
        CREATE TABLE users (
          id               text    PRIMARY KEY,
          username         text    NOT NULL,
          email            text    NOT NULL,
          version          integer NOT NULL,
          created_at       text    NOT NULL,
          updated_at       text    NOT NULL,
          -- Fixed-width digits: byte order is log order, whatever the database's collation.
          created_position text COLLATE "C" NOT NULL UNIQUE
        );
        -- count(*) scans the table; totalCount must not grow with it.
        CREATE TABLE users_count (singleton boolean PRIMARY KEY CHECK (singleton), total bigint NOT NULL);
        INSERT INTO users_count VALUES (true, 0);`,
    },
    {
      version: 2,
      // README "Erasure": the row of an erased user stays, anonymised, so pages and counts keep their order.
      description: 'erased users: personal columns nullable, and an erased flag',
      sql: `
        ALTER TABLE users ALTER COLUMN username DROP NOT NULL, ALTER COLUMN email DROP NOT NULL,
          ADD COLUMN erased boolean NOT NULL DEFAULT false;`,
    },
  ],
  // The touched rows in, the fold in memory, one upsert (and the count) out.
  read: (events, param) => `SELECT ${COLUMNS} FROM users WHERE id = ANY(${param([...new Set(events.map(userIdOf))])}::text[])`,
  write: (events, rows) => {
    const views = new Map<string, UserView | null>((rows as UserRow[]).map((row) => [row.id, toUserView(row)]));
    const existed = new Set(views.keys());
    for (const event of events) {
      const userId = userIdOf(event);
      views.set(userId, evolveUserView(views.get(userId) ?? null, event));
    }
    const changed = [...views.values()].filter((view): view is UserView => view !== null);
    const created = changed.filter((view) => !existed.has(view.id)).length;
    const upsert: PgWrite = (guard, param) => `
      INSERT INTO users (${COLUMNS})
      SELECT * FROM unnest(${param(changed.map((v) => v.id))}::text[], ${param(changed.map((v) => v.username))}::text[],
                           ${param(changed.map((v) => v.email))}::text[], ${param(changed.map((v) => v.erased))}::boolean[],
                           ${param(changed.map((v) => v.version))}::integer[],
                           ${param(changed.map((v) => v.createdAt))}::text[], ${param(changed.map((v) => v.updatedAt))}::text[],
                           ${param(changed.map((v) => v.createdPosition))}::text[])
       WHERE ${guard}
      ON CONFLICT (id) DO UPDATE SET
        username = excluded.username, email = excluded.email, erased = excluded.erased, version = excluded.version,
        updated_at = excluded.updated_at`;
    const count: PgWrite = (guard, param) => `UPDATE users_count SET total = total + ${param(created)} WHERE ${guard}`;
    return [...(changed.length > 0 ? [upsert] : []), ...(created > 0 ? [count] : [])];
  },
  reset: async (client) => {
    await client.query('DELETE FROM users; UPDATE users_count SET total = 0');
  },
};

export function createPostgresUsersReadModel(pool: PgPool, onQuery: () => void = () => {}): UsersReadModel {
  // Concurrent requests, and the mutations a projection batch releases together, look users up
  // in the same turn of the event loop: they share one round trip. Nothing outlives the turn.
  const lookups = batchPerTurn<string, UserView | null>(async (ids) => {
    onQuery();
    const found = new Map((await selectByIds(pool, ids)).map((row) => [row.id, toUserView(row)]));
    return ids.map((id) => found.get(id) ?? null);
  }, MAX_LOOKUP_BATCH);
  const exists = async (condition: string, position: Position) =>
    ((await pool.query(`SELECT 1 FROM users WHERE created_position ${condition} $1 LIMIT 1`, [position])).rowCount ?? 0) > 0;
  return {
    byIds: async (ids) => {
      const users = await lookups.loadMany(ids);
      const failed = users.find((user) => user instanceof Error);
      if (failed) throw failed;
      return users.filter((user): user is UserView => user !== null);
    },
    page: async (request): Promise<UserPage> => {
      onQuery();
      const page = await readKeysetPage(request, {
        fetch: (direction, count, after, before) => selectPage(pool, direction, count, after, before),
        anyAtOrBefore: (position) => exists('<=', position),
        anyAtOrAfter: (position) => exists('>=', position),
      });
      return { ...page, items: page.items.map(toUserView) };
    },
    count: async () => Number((await pool.query<{ total: string }>('SELECT total FROM users_count')).rows[0]?.total ?? 0),
  };
}
