import type { EventLog, PositionCodec } from './event-store.js';
import { readKeysetPage, MAX_PAGE_SIZE } from './keyset-page.js';
import type { StoredEvent } from './messages.js';
import type { Position } from './position.js';
import type { QueryBus, TypedQuery } from './query-bus.js';
import { fail, ok, type Result } from './result.js';

/**
 * The event log as a Relay connection: a stream's history, or the whole log
 * for an audit. Each edge's cursor is the event's position exactly as
 * clients see it everywhere else (events' `position`, a subscription's
 * `after`), so a client can page through history and then follow what comes
 * next from the last cursor, with no gap and no duplicate.
 */
export type EventPageArgs = Readonly<{ first?: number | null; after?: string | null; last?: number | null; before?: string | null }>;

export type EventPageFilter = Readonly<{ streamId?: string; types?: readonly string[] }>;

export type InvalidEventPageRequest = Readonly<{ type: 'InvalidPageRequest'; message: string; argument: keyof EventPageArgs }>;

export type EventConnection = Readonly<{
  edges: readonly { cursor: string; node: StoredEvent }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}>;

export type ReadEventPage = TypedQuery<'ReadEventPage', EventPageArgs & EventPageFilter, Result<EventConnection, InvalidEventPageRequest>>;

export const readEventPage = (args: EventPageArgs, filter: EventPageFilter = {}): ReadEventPage => ({
  type: 'ReadEventPage',
  data: { ...args, ...filter },
});

/** As for every connection of this API (`users`): 20 unless asked, at most MAX_PAGE_SIZE. */
export const DEFAULT_EVENT_PAGE_SIZE = 20;

const invalid = (argument: keyof EventPageArgs, message: string): Result<never, InvalidEventPageRequest> =>
  fail({ type: 'InvalidPageRequest', message, argument });

export type EventPageWiring = Readonly<{
  queryBus: QueryBus;
  eventLog: Pick<EventLog, 'readPage'>;
  positions: Pick<PositionCodec, 'parsePosition' | 'formatPosition'>;
}>;

/** Registers `ReadEventPage`: one query for every history view, whichever module's events it shows. */
export function registerEventPageQuery({ queryBus, eventLog, positions }: EventPageWiring): void {
  queryBus.register<ReadEventPage>('ReadEventPage', async ({ data: { first, after, last, before, streamId, types } }) => {
    for (const [name, count] of [['first', first], ['last', last]] as const) {
      if (count == null) continue;
      if (count < 0) return invalid(name, `"${name}" must not be negative`);
      if (count > MAX_PAGE_SIZE) return invalid(name, `"${name}" must be at most ${MAX_PAGE_SIZE}`);
    }
    if (first != null && last != null) return invalid('last', 'Pass either "first" or "last", not both');
    const bounds: { after?: Position; before?: Position } = {};
    for (const [name, text] of [['after', after], ['before', before]] as const) {
      if (text == null) continue;
      const parsed = positions.parsePosition(text);
      // The wording of the subscription's `after`: a position is read the same way everywhere.
      if (!parsed.ok) return invalid(name, `"${name}" ${parsed.error}`);
      bounds[name] = parsed.value;
    }
    const scope = { ...(streamId === undefined ? {} : { streamId }), ...(types === undefined ? {} : { types }) };
    // The probes ask for the oldest or newest event of the selection: whether any lies at or beyond a cursor is then one comparison.
    const end = async (direction: 'forward' | 'backward') => (await eventLog.readPage({ direction, limit: 1, ...scope }))[0]?.position;
    const page = await readKeysetPage<Position, StoredEvent>(
      { direction: last != null ? 'backward' : 'forward', limit: last ?? first ?? DEFAULT_EVENT_PAGE_SIZE, ...bounds },
      {
        fetch: (direction, count, lower, upper) =>
          eventLog.readPage({ direction, limit: count, ...scope, ...(lower === undefined ? {} : { after: lower }), ...(upper === undefined ? {} : { before: upper }) }),
        anyAtOrBefore: async (position) => {
          const oldest = await end('forward');
          return oldest !== undefined && oldest <= position;
        },
        anyAtOrAfter: async (position) => {
          const newest = await end('backward');
          return newest !== undefined && newest >= position;
        },
      },
    );
    const edges = page.items.map((node) => ({ cursor: positions.formatPosition(node.position), node }));
    return ok({
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: page.hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    });
  });
}
