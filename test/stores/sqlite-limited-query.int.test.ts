import { afterEach, expect, it } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../src/stores/sqlite/database.js';
import { limitedQuery } from '../../src/stores/sqlite/limited-query.js';

let db: SqliteDatabase;
afterEach(() => db?.close());

it('returns the first `limit` rows for every limit, past the number of limits it prepares statements for', () => {
  db = openSqlite(':memory:');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY) STRICT');
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  for (let n = 1; n <= 50; n++) insert.run(n);
  const above = limitedQuery<[number], [number]>(db, (limit) => `SELECT n FROM t WHERE n > ? ORDER BY n LIMIT ${limit}`);
  // 40 distinct limits: more than get a statement of their own, so the bound form answers some.
  for (let limit = 0; limit < 40; limit++) {
    expect(above(limit, 5)).toEqual(Array.from({ length: limit }, (_, i) => [6 + i]));
  }
  expect(above(3, 48)).toEqual([[49], [50]]);
});

it('does not write a limit that is not a whole number into SQL', () => {
  db = openSqlite(':memory:');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY) STRICT; INSERT INTO t VALUES (1), (2)');
  const seen: string[] = [];
  const all = limitedQuery<[], [number]>(db, (limit) => (seen.push(limit), `SELECT n FROM t ORDER BY n LIMIT ${limit}`));
  // Bound, SQLite refuses it, as it would have before.
  expect(() => all(1.5)).toThrow(/datatype mismatch/);
  expect(seen).toEqual(['?']);
  expect(all(1)).toEqual([[1]]);
  expect(seen).toEqual(['?', '1']);
});
