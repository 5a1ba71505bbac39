import type { KeysetPage, PageDirection } from './keyset-page.js';
import { MAX_PAGE_SIZE } from './keyset-page.js';
import { fail, ok, type Result } from './result.js';

/**
 * What every Relay connection of this API shares: its arguments, their
 * limits, how a refused request is said, and the shape of the answer. Each
 * connection brings only its cursors and its rows (`readKeysetPage`).
 */
export type ConnectionArgs = Readonly<{ first?: number | null; after?: string | null; last?: number | null; before?: string | null }>;

export type InvalidPageRequest = Readonly<{ type: 'InvalidPageRequest'; message: string; argument: keyof ConnectionArgs }>;

export type Connection<Node> = Readonly<{
  edges: readonly { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}>;

/** When a client names no page size; at most MAX_PAGE_SIZE when it does. */
export const DEFAULT_PAGE_SIZE = 20;

export const invalidPageRequest = (argument: keyof ConnectionArgs, message: string): Result<never, InvalidPageRequest> =>
  fail({ type: 'InvalidPageRequest', message, argument });

/** The direction and size `first`/`last` ask for, or why no page can be that. Cursors are each connection's own. */
export function pageSizeOf({ first, last }: ConnectionArgs): Result<{ direction: PageDirection; limit: number }, InvalidPageRequest> {
  for (const [name, count] of [['first', first], ['last', last]] as const) {
    if (count == null) continue;
    if (count < 0) return invalidPageRequest(name, `"${name}" must not be negative`);
    if (count > MAX_PAGE_SIZE) return invalidPageRequest(name, `"${name}" must be at most ${MAX_PAGE_SIZE}`);
  }
  if (first != null && last != null) return invalidPageRequest('last', 'Pass either "first" or "last", not both');
  return ok({ direction: last != null ? 'backward' : 'forward', limit: last ?? first ?? DEFAULT_PAGE_SIZE });
}

export function connectionOf<Node>(page: KeysetPage<Node>, cursorOf: (node: Node) => string): Connection<Node> {
  const edges = page.items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
