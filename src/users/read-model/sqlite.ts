import { readKeysetPage } from '../../kernel/keyset-page.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import type { SqliteDatabase } from '../../stores/sqlite/database.js';
import { limitedQuery } from '../../stores/sqlite/limited-query.js';
import { positionTextOf } from '../../stores/sqlite/position.js';
import type { SqliteProjection } from '../../stores/sqlite/projection-sink.js';
import { userEventTypes, userIdOf } from '../user.js';
import { evolveUserView, type UserView } from '../user-view.js';
import type { UserPage, UsersReadModel } from './read-model.js';

export const usersProjection: SqliteProjection = {
  name: 'users',
  eventTypes: userEventTypes,
  migrations: [
    {
      version: 1,
      description: 'users table ordered by creation position, and a running count',
      up: (db) =>
        db.exec(`
          CREATE TABLE users (
            id               TEXT PRIMARY KEY,
            username         TEXT    NOT NULL,
            email            TEXT    NOT NULL,
            version          INTEGER NOT NULL,
            created_at       TEXT    NOT NULL,
            updated_at       TEXT    NOT NULL,
            created_position INTEGER NOT NULL UNIQUE
          ) STRICT, WITHOUT ROWID;
          -- COUNT(*) scans the table; totalCount must not grow with it.
          CREATE TABLE users_count (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            total     INTEGER NOT NULL
          ) STRICT;
          INSERT INTO users_count (singleton, total) VALUES (1, 0);
        `),
    },
    {
      version: 2,
      description: 'creation positions as fixed-width text',
      up: (db) =>
        db.exec(`
          CREATE TABLE users_v2 (
            id               TEXT PRIMARY KEY,
            username         TEXT NOT NULL,
            email            TEXT NOT NULL,
            version          INTEGER NOT NULL,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            created_position TEXT NOT NULL UNIQUE
          ) STRICT, WITHOUT ROWID;
          INSERT INTO users_v2
            SELECT id, username, email, version, created_at, updated_at, ${positionTextOf('created_position')} FROM users;
          DROP TABLE users;
          ALTER TABLE users_v2 RENAME TO users;
        `),
    },
    {
      version: 3,
      description: 'users stored in creation order, found by id through an index',
      // A page is 21 consecutive rows in creation order. Keyed by id, each was a separate descent
      // of the table's b-tree from the position index, over pages scattered by id: with the CPU's
      // caches cold between requests, a visible share of a users request's CPU. Clustered, a page
      // is one contiguous range; a lookup by id takes one more (small) b-tree descent, which costs
      // no measurable time.
      up: (db) =>
        db.exec(`
          CREATE TABLE users_v3 (
            created_position TEXT PRIMARY KEY,
            id               TEXT NOT NULL UNIQUE,
            username         TEXT NOT NULL,
            email            TEXT NOT NULL,
            version          INTEGER NOT NULL,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          INSERT INTO users_v3 (created_position, id, username, email, version, created_at, updated_at)
            SELECT created_position, id, username, email, version, created_at, updated_at FROM users ORDER BY created_position;
          DROP TABLE users;
          ALTER TABLE users_v3 RENAME TO users;
        `),
    },
    {
      version: 4,
      // README "Erasure": the row of an erased user stays, anonymised, so pages and counts keep their order.
      description: 'erased users: personal columns nullable, and an erased flag',
      // SQLite cannot drop a NOT NULL constraint in place: the table is rewritten, in the same order.
      up: (db) =>
        db.exec(`
          CREATE TABLE users_v4 (
            created_position TEXT PRIMARY KEY,
            id               TEXT NOT NULL UNIQUE,
            username         TEXT,
            email            TEXT,
            erased           INTEGER NOT NULL DEFAULT 0 CHECK (erased IN (0, 1)),
            version          INTEGER NOT NULL,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL
          ) STRICT, WITHOUT ROWID;
          INSERT INTO users_v4 (created_position, id, username, email, version, created_at, updated_at)
            SELECT created_position, id, username, email, version, created_at, updated_at FROM users ORDER BY created_position;
          DROP TABLE users;
          ALTER TABLE users_v4 RENAME TO users;
        `),
    },
  ],
  apply: (db, events) => {
    const statements = prepared(db);
    let created = 0;
    for (const event of events) {
      const row = event.type === 'UserCreated' ? undefined : statements.viewById.get(userIdOf(event));
      const before = row ? fromColumns(row) : null;
      const after = evolveUserView(before, event);
      if (after === null) continue;
      statements.upsert.run({ ...after, erased: after.erased ? 1 : 0 });
      if (before === null) created += 1;
    }
    // Once per batch: updating the count's single row per event was a third of a rebuild's time.
    if (created > 0) statements.addToCount.run(created);
  },
  reset: (db) => {
    db.exec('DELETE FROM users; UPDATE users_count SET total = 0');
  },
};

const COLUMNS = 'id, username, email, erased, version, created_at, updated_at, created_position';
type UserColumns = [string, string | null, string | null, 0 | 1, number, string, string, Position];
const fromColumns = ([id, username, email, erased, version, createdAt, updatedAt, createdPosition]: UserColumns): UserView => ({
  id,
  username,
  email,
  erased: erased === 1,
  version,
  createdAt,
  updatedAt,
  createdPosition,
});

// Statements are compiled once per connection, not once per event.
const cache = new WeakMap<SqliteDatabase, ReturnType<typeof prepare>>();
function prepared(db: SqliteDatabase) {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = prepare(db)));
  return statements;
}
function prepare(db: SqliteDatabase) {
  return {
    // SQLite has no boolean: `erased` is bound as 0 or 1.
    upsert: db.prepare<[Omit<UserView, 'erased'> & { erased: 0 | 1 }]>(`
      INSERT INTO users (id, username, email, erased, version, created_at, updated_at, created_position)
      VALUES (@id, @username, @email, @erased, @version, @createdAt, @updatedAt, @createdPosition)
      ON CONFLICT (id) DO UPDATE SET
        username = excluded.username, email = excluded.email, erased = excluded.erased, version = excluded.version,
        updated_at = excluded.updated_at`),
    addToCount: db.prepare<[number]>('UPDATE users_count SET total = total + ?'),
    // Reads return rows as arrays: building a keyed object per row is a large part of
    // a 20-row page's cost.
    viewById: db.prepare<[string], UserColumns>(`SELECT ${COLUMNS} FROM users WHERE id = ?`).raw(true),
    viewsByIds: db.prepare<[string], UserColumns>(`SELECT ${COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))`).raw(true),
    forward: limitedQuery<[Position, Position], UserColumns>(
      db,
      (limit) => `SELECT ${COLUMNS} FROM users WHERE created_position > ? AND created_position < ? ORDER BY created_position LIMIT ${limit}`,
    ),
    backward: limitedQuery<[Position, Position], UserColumns>(
      db,
      (limit) => `SELECT ${COLUMNS} FROM users WHERE created_position > ? AND created_position < ? ORDER BY created_position DESC LIMIT ${limit}`,
    ),
    anyAtOrBelow: db.prepare<[Position], { found: number }>('SELECT 1 AS found FROM users WHERE created_position <= ? LIMIT 1'),
    anyAtOrAbove: db.prepare<[Position], { found: number }>('SELECT 1 AS found FROM users WHERE created_position >= ? LIMIT 1'),
    total: db.prepare<[], { total: number }>('SELECT total FROM users_count'),
  };
}

export function createSqliteUsersReadModel(db: SqliteDatabase, onQuery: () => void = () => {}): UsersReadModel {
  const statements = prepared(db);
  // Above every position: fixed-width digits sort below '~'.
  const END = '~' as Position;
  return {
    byIds: async (ids) => {
      onQuery();
      // Most requests ask for one user; a primary-key get skips json_each's parse and join.
      if (ids.length === 1) {
        const row = statements.viewById.get(ids[0]!);
        return row ? [fromColumns(row)] : [];
      }
      return statements.viewsByIds.all(JSON.stringify(ids)).map(fromColumns);
    },
    page: async (request): Promise<UserPage> => {
      onQuery();
      const page = await readKeysetPage(request, {
        // `backward` reads in descending order: nearest the cursor first, as readKeysetPage asks.
        fetch: (direction, count, after = LOG_START, before = END) => statements[direction](count, after, before),
        anyAtOrBefore: (position) => statements.anyAtOrBelow.get(position) !== undefined,
        anyAtOrAfter: (position) => statements.anyAtOrAbove.get(position) !== undefined,
      });
      return { ...page, items: page.items.map(fromColumns) };
    },
    count: async () => statements.total.get()?.total ?? 0,
  };
}
