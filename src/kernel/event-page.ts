import type { EventLog, PositionCodec } from './event-store.js';
import { connectionOf, invalidPageRequest, pageSizeOf, type Connection, type ConnectionArgs, type InvalidPageRequest } from './connection.js';
import { readKeysetPage } from './keyset-page.js';
import type { StoredEvent } from './messages.js';
import type { Position } from './position.js';
import type { QueryBus, TypedQuery } from './query-bus.js';
import { ok, type Result } from './result.js';

/**
 * The event log as a Relay connection: a stream's history, or the whole log
 * for an audit. Each edge's cursor is the event's position exactly as
 * clients see it everywhere else (events' `position`, a subscription's
 * `after`), so a client can page through history and then follow what comes
 * next from the last cursor, with no gap and no duplicate.
 */
export type EventPageArgs = ConnectionArgs;

export type EventPageFilter = Readonly<{ streamId?: string; types?: readonly string[] }>;

export type EventConnection = Connection<StoredEvent>;

export type ReadEventPage = TypedQuery<'ReadEventPage', EventPageArgs & EventPageFilter, Result<EventConnection, InvalidPageRequest>>;

export const readEventPage = (args: EventPageArgs, filter: EventPageFilter = {}): ReadEventPage => ({
  type: 'ReadEventPage',
  data: { ...args, ...filter },
});

export type EventPageWiring = Readonly<{
  queryBus: QueryBus;
  eventLog: Pick<EventLog, 'readPage'>;
  positions: Pick<PositionCodec, 'parsePosition' | 'formatPosition'>;
}>;

/** Registers `ReadEventPage`: one query for every history view, whichever module's events it shows. */
export function registerEventPageQuery({ queryBus, eventLog, positions }: EventPageWiring): void {
  queryBus.register<ReadEventPage>('ReadEventPage', async ({ data: { after, before, streamId, types, ...counts } }) => {
    const size = pageSizeOf(counts);
    if (!size.ok) return size;
    const bounds: { after?: Position; before?: Position } = {};
    for (const [name, text] of [['after', after], ['before', before]] as const) {
      if (text == null) continue;
      const parsed = positions.parsePosition(text);
      // The wording of the subscription's `after`: a position is read the same way everywhere.
      if (!parsed.ok) return invalidPageRequest(name, `"${name}" ${parsed.error}`);
      bounds[name] = parsed.value;
    }
    const scope = { ...(streamId === undefined ? {} : { streamId }), ...(types === undefined ? {} : { types }) };
    // The probes ask for the oldest or newest event of the selection: whether any lies at or beyond a cursor is then one comparison.
    const end = async (direction: 'forward' | 'backward') => (await eventLog.readPage({ direction, limit: 1, ...scope }))[0]?.position;
    const page = await readKeysetPage<Position, StoredEvent>(
      { ...size.value, ...bounds },
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
    return ok(connectionOf(page, (event) => positions.formatPosition(event.position)));
  });
}
