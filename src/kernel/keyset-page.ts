/**
 * Keyset paging (Relay cursor connections) over rows in a stable key order,
 * written once for every read-model adapter. An adapter supplies three
 * indexed queries; the arithmetic of limits, trimming and page flags is here.
 */

export type PageDirection = 'forward' | 'backward';

/**
 * The longest page any connection serves: one bound for every module, so the
 * operation cost limit (src/server/operation-limits.ts) can count a page's
 * items without knowing which module serves it.
 */
export const MAX_PAGE_SIZE = 100;

export type KeysetPageRequest<Key> = Readonly<{
  /** `first` pages forward from `after`; `last` pages backward from `before`. */
  direction: PageDirection;
  limit: number;
  /** Exclusive bounds on the key. */
  after?: Key;
  before?: Key;
}>;

/** `items` in ascending key order, whichever the direction. */
export type KeysetPage<Row> = Readonly<{ items: readonly Row[]; hasPreviousPage: boolean; hasNextPage: boolean }>;

export type KeysetSource<Key, Row> = Readonly<{
  /**
   * At most `count` rows with keys strictly between the bounds, nearest the
   * page's starting cursor first: ascending forward, descending backward.
   */
  fetch: (direction: PageDirection, count: number, after: Key | undefined, before: Key | undefined) => readonly Row[] | Promise<readonly Row[]>;
  /** Whether any row has a key at or below `key`. */
  anyAtOrBefore: (key: Key) => boolean | Promise<boolean>;
  /** Whether any row has a key at or above `key`. */
  anyAtOrAfter: (key: Key) => boolean | Promise<boolean>;
}>;

/**
 * The page within rows fetched nearest-first with one row beyond the limit:
 * its first `limit` rows, put in ascending order; the extra row only tells
 * that more lie beyond the page. Taking them nearest-first keeps a backward
 * page whole when fewer than `limit` rows precede its cursor.
 */
export function cutPage<Row>(direction: PageDirection, limit: number, nearestFirst: readonly Row[]): { items: Row[]; more: boolean } {
  const page = nearestFirst.slice(0, limit);
  return { items: direction === 'forward' ? page : page.reverse(), more: nearestFirst.length > limit };
}

/**
 * Reads one page. The flag in the paging direction says whether the limit
 * cut rows off. Relay leaves the flag facing the other way to the server;
 * here it says whether any row lies at or beyond that side's cursor
 * (`hasPreviousPage` with `after`, `hasNextPage` with `before`), which one
 * indexed probe answers, and it is false without that cursor. The probe runs
 * only when the answer is not already known.
 */
export async function readKeysetPage<Key, Row>(request: KeysetPageRequest<Key>, source: KeysetSource<Key, Row>): Promise<KeysetPage<Row>> {
  const { direction, limit, after, before } = request;
  const { items, more } = cutPage(direction, limit, await source.fetch(direction, limit + 1, after, before));
  return {
    items,
    hasPreviousPage: (direction === 'backward' && more) || (after !== undefined && (await source.anyAtOrBefore(after))),
    hasNextPage: (direction === 'forward' && more) || (before !== undefined && (await source.anyAtOrAfter(before))),
  };
}
