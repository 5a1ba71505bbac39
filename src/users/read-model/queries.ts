import DataLoader from 'dataloader';
import { connectionOf, invalidPageRequest, pageSizeOf, type Connection, type ConnectionArgs, type InvalidPageRequest } from '../../kernel/connection.js';
import type { PositionCodec } from '../../kernel/event-store.js';
import type { Position } from '../../kernel/position.js';
import type { QueryBus, RequestScope, TypedQuery } from '../../kernel/query-bus.js';
import { fail, ok, type Result } from '../../kernel/result.js';
import type { StreamBound } from '../../kernel/snapshots.js';
import { streamIdOf } from '../../kernel/stream-id.js';
import type { StreamFolds } from '../../kernel/stream-folds.js';
import { userViewFold } from '../stream-folds.js';
import { USER_STREAMS } from '../user.js';
import type { UserView } from '../user-view.js';
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

/**
 * Time travel: the user as their stream stood at a version, or after their
 * events up to the first one past a position or a time; null where the user
 * did not exist (yet), or for a version the stream has not reached. Folded
 * from the event log with the domain's own evolve, never the read model, and
 * from the newest snapshot within the bound, so a long stream costs no more.
 */
export type GetUserAsOf = TypedQuery<'GetUserAsOf', { userId: string; asOf: AsOf }, Result<UserView | null, InvalidAsOf>>;

/** A point in a user's history as a client names it: the position is the client's text, read by this store. */
export type AsOf =
  | Readonly<{ type: 'version'; version: number }>
  | Readonly<{ type: 'position'; position: string }>
  | Readonly<{ type: 'time'; time: Date }>;

export type InvalidAsOf = Readonly<{ type: 'InvalidAsOf'; message: string; argument: string }>;

export const getUserAsOf = (userId: string, asOf: AsOf): GetUserAsOf => ({ type: 'GetUserAsOf', data: { userId, asOf } });

/** The bound a client's point in history names on this store, or why it names none. */
function boundOf(asOf: AsOf, positions: PositionFormat): Result<StreamBound, InvalidAsOf> {
  const invalidAsOf = (field: string, message: string) => fail({ type: 'InvalidAsOf' as const, message: `"asOf.${field}" ${message}`, argument: `asOf.${field}` });
  switch (asOf.type) {
    case 'version':
      return asOf.version < 0 ? invalidAsOf('version', 'must not be negative') : ok({ type: 'version', version: asOf.version });
    case 'position': {
      // The same reading, and the same words, as a subscription's `after`.
      const parsed = positions.parsePosition(asOf.position);
      return parsed.ok ? ok({ type: 'position', position: parsed.value }) : invalidAsOf('position', parsed.error);
    }
    case 'time':
      return Number.isNaN(asOf.time.getTime()) ? invalidAsOf('time', 'is not a time') : ok({ type: 'time', time: asOf.time.toISOString() });
  }
}

export const getUser = (userId: string): GetUser => ({ type: 'GetUser', data: { userId } });
export const getUserAtVersion = (userId: string, version: number, match: 'exactly' | 'atLeast'): GetUserAtVersion => ({
  type: 'GetUserAtVersion',
  data: { userId, version, match },
});
export const getUsers = (args: PageArgs): GetUsers => ({ type: 'GetUsers', data: args });
export const countUsers = (): CountUsers => ({ type: 'CountUsers', data: {} });

export type PageArgs = ConnectionArgs;
export type UserConnection = Connection<UserView>;
export { DEFAULT_PAGE_SIZE, type InvalidPageRequest } from '../../kernel/connection.js';

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


export type UserQueriesWiring = Readonly<{
  queryBus: QueryBus;
  readModel: UsersReadModel;
  positions: PositionFormat;
  /** Users folded from their streams (and snapshots), for what the read model cannot answer. */
  streamFolds: Pick<StreamFolds, 'fold'>;
}>;

export function registerUserQueries({ queryBus: bus, readModel, positions, streamFolds }: UserQueriesWiring): void {
  const cursor = cursors(positions);
  bus.register<GetUser>('GetUser', (query, { scope }) => userLoader(scope, readModel).load(query.data.userId));

  bus.register<GetUserAtVersion>('GetUserAtVersion', async ({ data: { userId, version, match } }, { reached }) => {
    if (reached) {
      // Not the request's loader: it may hold this user as it was before the caller's write.
      const [user] = await readModel.byIds([userId]);
      if (user && (match === 'exactly' ? user.version === version : user.version >= version)) return user;
    }
    const folded = await streamFolds.fold(userViewFold, streamIdOf(USER_STREAMS, userId), match === 'exactly' ? { type: 'version', version } : undefined);
    if (!folded.state) throw new Error(`User stream of ${userId} folds to no user at version ${version}`);
    return folded.state;
  });

  bus.register<GetUserAsOf>('GetUserAsOf', async ({ data: { userId, asOf } }) => {
    const bound = boundOf(asOf, positions);
    if (!bound.ok) return bound;
    const folded = await streamFolds.fold(userViewFold, streamIdOf(USER_STREAMS, userId), bound.value);
    // A version past the stream's end names a user that does not exist yet.
    if (bound.value.type === 'version' && folded.version !== bound.value.version) return ok(null);
    return ok(folded.state);
  });

  bus.register<CountUsers>('CountUsers', () => readModel.count());

  bus.register<GetUsers>('GetUsers', async ({ data: args }) => {
    const size = pageSizeOf(args);
    if (!size.ok) return size;
    const { after, before } = args;
    const afterPosition = after == null ? undefined : cursor.decode(after);
    if (afterPosition === null) return invalidPageRequest('after', '"after" is not a cursor of this connection');
    const beforePosition = before == null ? undefined : cursor.decode(before);
    if (beforePosition === null) return invalidPageRequest('before', '"before" is not a cursor of this connection');

    const page = await readModel.page({
      ...size.value,
      ...(afterPosition === undefined ? {} : { after: afterPosition }),
      ...(beforePosition === undefined ? {} : { before: beforePosition }),
    });
    return ok(connectionOf(page, cursor.encode));
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
