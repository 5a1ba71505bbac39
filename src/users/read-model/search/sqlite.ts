import type { Statement } from 'better-sqlite3';
import { readKeysetPage } from '../../../kernel/keyset-page.js';
import type { SqliteDatabase } from '../../../stores/sqlite/database.js';
import type { SqliteProjection } from '../../../stores/sqlite/projection-sink.js';
import { userEventTypes, userIdOf } from '../../user.js';
import { evolveUserView } from '../../user-view.js';
import { toUserView, type UserRow } from '../user-row.js';
import { SEARCH_COLUMNS, parameters, searchCountSql, searchPageSql, searchProbeSql } from './search-sql.js';
import { searchChangeOf, type UserSearchReadModel } from './search.js';

const TABLE = 'user_search';

export const userSearchSqliteProjection: SqliteProjection = {
  name: 'user-search',
  eventTypes: userEventTypes,
  migrations: [
    {
      version: 1,
      description: 'users by username key and by email domain, beside creation order',
      // Clustered by creation, as `users` is; each secondary index ends in created_position,
      // which makes every key unique and is the tie-break of USERNAME order.
      up: (db) =>
        db.exec(`
          CREATE TABLE ${TABLE} (
            created_position TEXT PRIMARY KEY,
            id               TEXT NOT NULL UNIQUE,
            username         TEXT NOT NULL,
            email            TEXT NOT NULL,
            version          INTEGER NOT NULL,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            username_key     TEXT NOT NULL,
            email_domain     TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          CREATE INDEX user_search_by_username ON ${TABLE} (username_key, created_position);
          CREATE INDEX user_search_by_domain ON ${TABLE} (email_domain, created_position);
          CREATE INDEX user_search_by_domain_username ON ${TABLE} (email_domain, username_key, created_position);
        `),
    },
  ],
  apply: (db, events) => {
    const statements = prepared(db);
    for (const event of events) {
      const row = event.type === 'UserCreated' ? undefined : statements.byId.get(userIdOf(event));
      const after = evolveUserView(row ? toUserView(row) : null, event);
      if (after === null) continue;
      const change = searchChangeOf(after);
      if (change.type === 'delete') statements.remove.run(change.userId);
      else statements.upsert.run({ ...change.user, usernameKey: change.usernameKey, emailDomain: change.emailDomain });
    }
  },
  reset: (db) => {
    db.exec(`DELETE FROM ${TABLE}`);
  },
};

const cache = new WeakMap<SqliteDatabase, ReturnType<typeof prepare>>();
function prepared(db: SqliteDatabase) {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = prepare(db)));
  return statements;
}
function prepare(db: SqliteDatabase) {
  // A search's text depends only on which filters and bounds it has: a few dozen texts at most.
  const byText = new Map<string, Statement<unknown[]>>();
  return {
    byId: db.prepare<[string], UserRow>(`SELECT ${SEARCH_COLUMNS} FROM ${TABLE} WHERE id = ?`),
    upsert: db.prepare(`
      INSERT INTO ${TABLE} (created_position, id, username, email, version, created_at, updated_at, username_key, email_domain)
      VALUES (@createdPosition, @id, @username, @email, @version, @createdAt, @updatedAt, @usernameKey, @emailDomain)
      ON CONFLICT (id) DO UPDATE SET
        username = excluded.username, email = excluded.email, version = excluded.version, updated_at = excluded.updated_at,
        username_key = excluded.username_key, email_domain = excluded.email_domain`),
    remove: db.prepare<[string]>(`DELETE FROM ${TABLE} WHERE id = ?`),
    statement: (text: string) => {
      let statement = byText.get(text);
      if (!statement) byText.set(text, (statement = db.prepare<unknown[]>(text)));
      return statement;
    },
  };
}

export function createSqliteUserSearchReadModel(db: SqliteDatabase, onQuery: () => void = () => {}): UserSearchReadModel {
  const statements = prepared(db);
  const run = (build: (param: (value: string | number) => string) => string) => {
    const { values, param } = parameters('sqlite');
    return { statement: statements.statement(build(param)), values };
  };
  return {
    searchPage: async (search, request) => {
      onQuery();
      const page = await readKeysetPage(request, {
        fetch: (direction, count, after, before) => {
          const { statement, values } = run((param) => searchPageSql(TABLE, search, { direction, count, after, before }, param));
          return statement.all(...values) as UserRow[];
        },
        anyAtOrBefore: (key) => {
          const { statement, values } = run((param) => searchProbeSql(TABLE, search, 'before', key, param));
          return statement.get(...values) !== undefined;
        },
        anyAtOrAfter: (key) => {
          const { statement, values } = run((param) => searchProbeSql(TABLE, search, 'after', key, param));
          return statement.get(...values) !== undefined;
        },
      });
      return { ...page, items: page.items.map(toUserView) };
    },
    searchCount: async (search) => {
      onQuery();
      const { statement, values } = run((param) => searchCountSql(TABLE, search, param));
      return (statement.get(...values) as { total: number }).total;
    },
  };
}
