import { readKeysetPage } from '../../../kernel/keyset-page.js';
import type { PgPool } from '../../../stores/postgres/database.js';
import type { PgWrite, PostgresProjection } from '../../../stores/postgres/projection-sink.js';
import { userEventTypes, userIdOf } from '../../user.js';
import { evolveUserView, type UserView } from '../../user-view.js';
import { toUserView, type UserRow } from '../user-row.js';
import { SEARCH_COLUMNS, parameters, searchCountSql, searchPageSql, searchProbeSql } from './search-sql.js';
import { searchChangeOf, type SearchChange, type UserSearchReadModel } from './search.js';

const TABLE = 'user_search';

export const userSearchPostgresProjection: PostgresProjection = {
  name: 'user-search',
  eventTypes: userEventTypes,
  migrations: [
    {
      version: 1,
      description: 'users by username key and by email domain, beside creation order',
      // COLLATE "C": byte order, the order SQLite and the cursors use, whatever the database's
      // collation; and a plain b-tree on it serves prefix ranges (no text_pattern_ops needed).
      sql: `
        CREATE TABLE ${TABLE} (
          id               text    PRIMARY KEY,
          username         text    NOT NULL,
          email            text    NOT NULL,
          version          integer NOT NULL,
          created_at       text    NOT NULL,
          updated_at       text    NOT NULL,
          created_position text COLLATE "C" NOT NULL UNIQUE,
          username_key     text COLLATE "C" NOT NULL,
          email_domain     text COLLATE "C" NOT NULL
        );
        CREATE INDEX user_search_by_username ON ${TABLE} (username_key, created_position);
        CREATE INDEX user_search_by_domain ON ${TABLE} (email_domain, created_position);
        CREATE INDEX user_search_by_domain_username ON ${TABLE} (email_domain, username_key, created_position);`,
    },
  ],
  read: (events, param) => `SELECT ${SEARCH_COLUMNS} FROM ${TABLE} WHERE id = ANY(${param([...new Set(events.map(userIdOf))])}::text[])`,
  write: (events, rows) => {
    const views = new Map<string, UserView | null>((rows as UserRow[]).map((row) => [row.id, toUserView(row)]));
    for (const event of events) {
      const userId = userIdOf(event);
      views.set(userId, evolveUserView(views.get(userId) ?? null, event));
    }
    const changes = [...views.values()].flatMap((view) => (view === null ? [] : [searchChangeOf(view)]));
    const upserts = changes.filter((change): change is Extract<SearchChange, { type: 'upsert' }> => change.type === 'upsert');
    const deleted = changes.flatMap((change) => (change.type === 'delete' ? [change.userId] : []));
    const column = <T>(of: (change: (typeof upserts)[number]) => T) => upserts.map(of);
    const upsert: PgWrite = (guard, param) => `
      INSERT INTO ${TABLE} (${SEARCH_COLUMNS}, username_key, email_domain)
      SELECT * FROM unnest(${param(column((c) => c.user.id))}::text[], ${param(column((c) => c.user.username))}::text[],
                           ${param(column((c) => c.user.email))}::text[], ${param(column((c) => c.user.version))}::integer[],
                           ${param(column((c) => c.user.createdAt))}::text[], ${param(column((c) => c.user.updatedAt))}::text[],
                           ${param(column((c) => c.user.createdPosition))}::text[], ${param(column((c) => c.usernameKey))}::text[],
                           ${param(column((c) => c.emailDomain))}::text[])
       WHERE ${guard}
      ON CONFLICT (id) DO UPDATE SET
        username = excluded.username, email = excluded.email, version = excluded.version, updated_at = excluded.updated_at,
        username_key = excluded.username_key, email_domain = excluded.email_domain`;
    const remove: PgWrite = (guard, param) => `DELETE FROM ${TABLE} WHERE id = ANY(${param(deleted)}::text[]) AND ${guard}`;
    return [...(upserts.length > 0 ? [upsert] : []), ...(deleted.length > 0 ? [remove] : [])];
  },
  reset: async (client) => {
    await client.query(`DELETE FROM ${TABLE}`);
  },
};

export function createPostgresUserSearchReadModel(pool: PgPool, onQuery: () => void = () => {}): UserSearchReadModel {
  const query = async <Row extends object>(build: (param: (value: string | number) => string) => string): Promise<Row[]> => {
    const { values, param } = parameters('postgres');
    const text = build(param);
    return (await pool.query<Row>(text, values)).rows;
  };
  return {
    searchPage: async (search, request) => {
      onQuery();
      const page = await readKeysetPage(request, {
        fetch: (direction, count, after, before) => query<UserRow>((param) => searchPageSql(TABLE, search, { direction, count, after, before }, param)),
        anyAtOrBefore: async (key) => (await query((param) => searchProbeSql(TABLE, search, 'before', key, param))).length > 0,
        anyAtOrAfter: async (key) => (await query((param) => searchProbeSql(TABLE, search, 'after', key, param))).length > 0,
      });
      return { ...page, items: page.items.map(toUserView) };
    },
    searchCount: async (search) => {
      onQuery();
      const [row] = await query<{ total: string }>((param) => searchCountSql(TABLE, search, param));
      return Number(row?.total ?? 0);
    },
  };
}
