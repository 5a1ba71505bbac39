import DataLoader from 'dataloader';
import { MAX_PAGE_SIZE } from '../../kernel/keyset-page.js';
import type { EventLog, PositionCodec } from '../../kernel/event-store.js';
import type { Position } from '../../kernel/position.js';
import type { QueryBus, RequestScope, TypedQuery } from '../../kernel/query-bus.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import { streamIdOf } from '../../kernel/stream-id.js';
import { USER_STREAMS } from '../user.js';
import { userViewFromStream, type UserView } from '../user-view.js';
import type { UsersReadModel } from './read-model.js';

export type GetUser = TypedQuery<'GetUser', { userId: string }, UserView | null>;
export type GetUsers = TypedQuery<'GetUsers', PageArgs, Result<UserConnection, InvalidPageRequest>>;
export type CountUsers = TypedQuery<'CountUsers', Record<string, never>, number>;

/**
 * The user exactly at `version` (`exactly`) or at least that new (`atLeast`):
 * from the read model when the projections have passed the caller's
 * position (execute it with `atLeast`), else folded from the user's stream.
 * For answers the read model cannot give (yet): a mutation's own write with
 * a stalled projection, or the state one event left.
 */
export type GetUserAtVersion = TypedQuery<'GetUserAtVersion', { userId: string; version: number; match: 'exactly' | 'atLeast' }, UserView>;

export const getUser = (userId: string): GetUser => ({ type: 'GetUser', data: { userId } });
export const getUserAtVersion = (userId: string, version: number, match: 'exactly' | 'atLeast'): GetUserAtVersion => ({
  type: 'GetUserAtVersion',
  data: { userId, version, match },
});
export const getUsers = (args: PageArgs): GetUsers => ({ type: 'GetUsers', data: args });
export const countUsers = (): CountUsers => ({ type: 'CountUsers', data: {} });

export type PageArgs = Readonly<{ first?: number | null; after?: string | null; last?: number | null; before?: string | null }>;
export type InvalidPageRequest = Readonly<{ type: 'InvalidPageRequest'; message: string; argument: keyof PageArgs }>;
export type UserConnection = Readonly<{
  edges: readonly { cursor: string; node: UserView }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}>;

export const DEFAULT_PAGE_SIZE = 20;

/** Cursors wrap the user's creation position, in the store's own client format. */
export type PositionFormat = Pick<PositionCodec, 'parsePosition' | 'formatPosition'>;

const CURSOR_PREFIX = 'user:';
const MAX_CURSOR_LENGTH = 128;

const cursors = (positions: PositionFormat) => ({
  encode: (user: UserView): string =>
    Buffer.from(`${CURSOR_PREFIX}${positions.formatPosition(user.createdPosition)}`).toString('base64url'),
  decode: (cursor: string): Position | null => {
    if (cursor.length > MAX_CURSOR_LENGTH) return null;
    const text = Buffer.from(cursor, 'base64url').toString();
    if (!text.startsWith(CURSOR_PREFIX)) return null;
    const parsed = positions.parsePosition(text.slice(CURSOR_PREFIX.length));
    return parsed.ok ? parsed.value : null;
  },
});

const invalid = (argument: keyof PageArgs, message: string): Result<never, InvalidPageRequest> =>
  fail({ type: 'InvalidPageRequest', message, argument });

export type UserQueriesWiring = Readonly<{
  queryBus: QueryBus;
  readModel: UsersReadModel;
  positions: PositionFormat;
  eventLog: Pick<EventLog, 'readStream'>;
}>;

export function registerUserQueries({ queryBus: bus, readModel, positions, eventLog }: UserQueriesWiring): void {
  const cursor = cursors(positions);
  bus.register<GetUser>('GetUser', (query, { scope }) => userLoader(scope, readModel).load(query.data.userId));

  bus.register<GetUserAtVersion>('GetUserAtVersion', async ({ data: { userId, version, match } }, { reached }) => {
    if (reached) {
      // Not the request's loader: it may hold this user as it was before the caller's write.
      const [user] = await readModel.byIds([userId]);
      if (user && (match === 'exactly' ? user.version === version : user.version >= version)) return user;
    }
    const { events } = await eventLog.readStream(streamIdOf(USER_STREAMS, userId));
    const upTo = match === 'exactly' ? version : Number.POSITIVE_INFINITY;
    const user = userViewFromStream(events.filter((event) => event.streamVersion <= upTo));
    if (!user) throw new Error(`User stream of ${userId} folds to no user at version ${version}`);
    return user;
  });

  bus.register<CountUsers>('CountUsers', () => readModel.count());

  bus.register<GetUsers>('GetUsers', async ({ data: { first, after, last, before } }) => {
    for (const [name, count] of [['first', first], ['last', last]] as const) {
      if (count == null) continue;
      if (count < 0) return invalid(name, `"${name}" must not be negative`);
      if (count > MAX_PAGE_SIZE) return invalid(name, `"${name}" must be at most ${MAX_PAGE_SIZE}`);
    }
    if (first != null && last != null) return invalid('last', 'Pass either "first" or "last", not both');
    const afterPosition = after == null ? undefined : cursor.decode(after);
    if (afterPosition === null) return invalid('after', '"after" is not a cursor of this connection');
    const beforePosition = before == null ? undefined : cursor.decode(before);
    if (beforePosition === null) return invalid('before', '"before" is not a cursor of this connection');

    const page = await readModel.page({
      direction: last != null ? 'backward' : 'forward',
      limit: last ?? first ?? DEFAULT_PAGE_SIZE,
      ...(afterPosition === undefined ? {} : { after: afterPosition }),
      ...(beforePosition === undefined ? {} : { before: beforePosition }),
    });
    const edges = page.items.map((node) => ({ cursor: cursor.encode(node), node }));
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

/** One loader per request: N `user(id:)` fields become one read-model query. */
function userLoader(scope: RequestScope, readModel: UsersReadModel) {
  return scope.memo(
    'users.byId',
    () =>
      new DataLoader<string, UserView | null>(async (ids) => {
        const found = new Map((await readModel.byIds(ids)).map((user) => [user.id, user]));
        return ids.map((id) => found.get(id) ?? null);
      }),
  );
}
