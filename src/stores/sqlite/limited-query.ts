import type { SqliteDatabase } from './database.js';

/** Distinct limits given a statement of their own; callers use a handful (page sizes, batch sizes). */
const MAX_LIMITS = 16;

/**
 * A SELECT whose LIMIT is written into the statement rather than bound.
 * SQLite plans with a bound LIMIT's value, so binding it again, even to the
 * same value, makes the next step re-prepare the statement: for a 20-row
 * page of users that costs more than the read itself. Each limit seen gets
 * its own prepared statement, up to
 * MAX_LIMITS; beyond that the bound form serves, slower but bounded in memory.
 * Rows come back as arrays (`raw`).
 *
 * @param sql the statement with `limit` where its LIMIT's value goes
 */
export function limitedQuery<Params extends unknown[], Row extends unknown[]>(
  db: SqliteDatabase,
  sql: (limit: string) => string,
): (limit: number, ...params: Params) => Row[] {
  const byLimit = new Map<number, (...params: Params) => Row[]>();
  const bound = db.prepare<[...Params, number], Row>(sql('?')).raw(true);
  return (limit, ...params) => {
    let query = byLimit.get(limit);
    if (!query && Number.isSafeInteger(limit) && limit >= 0 && byLimit.size < MAX_LIMITS) {
      const statement = db.prepare<Params, Row>(sql(String(limit))).raw(true);
      query = (...values) => statement.all(...values);
      byLimit.set(limit, query);
    }
    return query ? query(...params) : bound.all(...params, limit);
  };
}
