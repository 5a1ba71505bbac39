import type { PageDirection } from '../../../kernel/keyset-page.js';
import { prefixUpperBound, type SearchKey, type UserSearch } from './search.js';

/**
 * The search's SQL, the same for SQLite and PostgreSQL: both compare row
 * values, and both keep the text columns in byte order (SQLite's BINARY,
 * PostgreSQL's COLLATE "C"), so a keyset bound is a range of one index:
 *   - (username_key, created_position): USERNAME order, and usernamePrefix;
 *   - (email_domain, created_position) and (email_domain, username_key,
 *     created_position): emailDomain in either order;
 *   - created_position: CREATED_AT order.
 * `param` adds a value and returns its placeholder.
 */
export const SEARCH_COLUMNS = 'id, username, email, version, created_at, updated_at, created_position';

type Param = (value: string | number) => string;

/** `ASC` scans the index upwards. A page that reads backward, or a DESC search, scans it the other way; both at once, upwards again. */
const scanOf = (search: UserSearch, direction: PageDirection): 'ASC' | 'DESC' =>
  (search.direction === 'ASC') === (direction === 'forward') ? 'ASC' : 'DESC';

function keyCompared(search: UserSearch, operator: string, key: SearchKey, param: Param): string {
  return search.field === 'USERNAME'
    ? `(username_key, created_position) ${operator} (${param(key.usernameKey)}, ${param(key.position)})`
    : `created_position ${operator} ${param(key.position)}`;
}

/** `side` of the cursor in the search's order, as an operator on the index's ascending keys. */
function operatorFor(search: UserSearch, side: 'after' | 'before', inclusive: boolean): string {
  const upwards = (search.direction === 'ASC') === (side === 'after');
  return `${upwards ? '>' : '<'}${inclusive ? '=' : ''}`;
}

/**
 * The filter's conditions. `keys` are the page's cursors in USERNAME order: a
 * side of the prefix range that a cursor's row-value bound already implies is
 * left out, so the index is entered at the cursor, not at the prefix (the
 * planners take one range per index: with both, a deep page would scan every
 * row of the prefix before it).
 */
function filterConditions(search: UserSearch, param: Param, keys: readonly Readonly<{ operator: string; key: SearchKey }>[] = []): string[] {
  const conditions: string[] = [];
  const prefix = search.usernamePrefix;
  if (prefix !== undefined) {
    const upper = prefixUpperBound(prefix);
    const implied = (side: '>' | '<') =>
      search.field === 'USERNAME' &&
      keys.some(({ operator, key }) => operator.startsWith(side) && (side === '>' ? key.usernameKey >= prefix : key.usernameKey < upper));
    if (!implied('>')) conditions.push(`username_key >= ${param(prefix)}`);
    if (!implied('<')) conditions.push(`username_key < ${param(upper)}`);
  }
  if (search.emailDomain !== undefined) conditions.push(`email_domain = ${param(search.emailDomain)}`);
  return conditions;
}

const whereOf = (conditions: readonly string[]) => (conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`);

/** At most `count` rows strictly between the bounds, nearest the page's starting cursor first. */
export function searchPageSql(
  table: string,
  search: UserSearch,
  page: Readonly<{ direction: PageDirection; count: number; after: SearchKey | undefined; before: SearchKey | undefined }>,
  param: Param,
): string {
  const bounds = [
    ...(page.after ? [{ operator: operatorFor(search, 'after', false), key: page.after }] : []),
    ...(page.before ? [{ operator: operatorFor(search, 'before', false), key: page.before }] : []),
  ];
  const conditions = filterConditions(search, param, bounds);
  for (const { operator, key } of bounds) conditions.push(keyCompared(search, operator, key, param));
  const scan = scanOf(search, page.direction);
  const order = search.field === 'USERNAME' ? `username_key ${scan}, created_position ${scan}` : `created_position ${scan}`;
  return `SELECT ${SEARCH_COLUMNS} FROM ${table} ${whereOf(conditions)} ORDER BY ${order} LIMIT ${param(page.count)}`;
}

/** Whether a matching row lies at the key or on its `side`, in the search's order: one indexed probe. */
export function searchProbeSql(table: string, search: UserSearch, side: 'after' | 'before', key: SearchKey, param: Param): string {
  const operator = operatorFor(search, side, true);
  const conditions = [...filterConditions(search, param, [{ operator, key }]), keyCompared(search, operator, key, param)];
  return `SELECT 1 AS found FROM ${table} ${whereOf(conditions)} LIMIT 1`;
}

export function searchCountSql(table: string, search: UserSearch, param: Param): string {
  return `SELECT count(*) AS total FROM ${table} ${whereOf(filterConditions(search, param))}`;
}

/** Placeholders for SQLite (`?`, in order) or PostgreSQL (`$n`), and the values they stand for. */
export function parameters(dialect: 'sqlite' | 'postgres') {
  const values: (string | number)[] = [];
  return {
    values,
    param: (value: string | number) => {
      values.push(value);
      return dialect === 'sqlite' ? '?' : typeof value === 'number' ? `$${values.length}::integer` : `$${values.length}::text`;
    },
  };
}
