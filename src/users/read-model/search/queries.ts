import { createHash } from 'node:crypto';
import { z } from 'zod';
import { connectionOf, invalidPageRequest, pageSizeOf, type ConnectionArgs, type InvalidPageRequest } from '../../../kernel/connection.js';
import type { QueryBus, TypedQuery } from '../../../kernel/query-bus.js';
import { fail, ok, type Result } from '../../../kernel/result.js';
import type { PositionFormat, UserConnection } from '../queries.js';
import { searchKeyOf, type OrderDirection, type SearchKey, type UserOrderField, type UserSearch, type UserSearchReadModel } from './search.js';

/** `users(filter:, orderBy:)` as clients send them; absent parts take their defaults. */
export type SearchArgs = ConnectionArgs &
  Readonly<{
    filter?: Readonly<{ usernamePrefix?: string | null; emailDomain?: string | null }> | null;
    orderBy?: Readonly<{ field?: UserOrderField | null; direction?: OrderDirection | null }> | null;
  }>;

export type InvalidSearch = Readonly<{ type: 'InvalidSearch'; message: string; argument: string }>;

/** A page of a search, and the search, which the connection's `totalCount` counts. */
export type UserSearchConnection = UserConnection & Readonly<{ search: UserSearch }>;

export type SearchUsers = TypedQuery<'SearchUsers', SearchArgs, Result<UserSearchConnection, InvalidPageRequest | InvalidSearch>>;
export type CountSearchedUsers = TypedQuery<'CountSearchedUsers', { search: UserSearch }, number>;

export const searchUsers = (args: SearchArgs): SearchUsers => ({ type: 'SearchUsers', data: args });
export const countSearchedUsers = (search: UserSearch): CountSearchedUsers => ({ type: 'CountSearchedUsers', data: { search } });

// An empty filter filters nothing; what is given is checked against what usernames and domains can be.
const filterRules = z.strictObject({
  usernamePrefix: z
    .string()
    .max(32, { error: 'must be at most 32 characters', abort: true })
    .regex(/^[A-Za-z0-9_.-]*$/, { error: 'may contain only letters, digits, "_", "." and "-", as usernames do' })
    .nullish(),
  emailDomain: z
    .string()
    .max(253, { error: 'must be at most 253 characters', abort: true })
    .regex(/^[^@\s]*$/, { error: 'is the part after "@", without it, and has no spaces' })
    .nullish(),
});

function searchOf(args: SearchArgs): Result<UserSearch, InvalidSearch> {
  const filter = filterRules.safeParse(args.filter ?? {});
  if (!filter.success) {
    const issue = filter.error.issues[0]!;
    const argument = `filter.${issue.path.join('.')}`;
    return fail({ type: 'InvalidSearch', message: `"${argument}" ${issue.message}`, argument });
  }
  const { usernamePrefix, emailDomain } = filter.data;
  return ok({
    ...(usernamePrefix ? { usernamePrefix: usernamePrefix.toLowerCase() } : {}),
    ...(emailDomain ? { emailDomain: emailDomain.toLowerCase() } : {}),
    field: args.orderBy?.field ?? 'CREATED_AT',
    direction: args.orderBy?.direction ?? 'ASC',
  });
}

const CURSOR_PREFIX = 'user-search:';
const MAX_CURSOR_LENGTH = 256;

/**
 * A search cursor names its order, direction and filter (the filter as a
 * hash: cursors carry no email domain into logs), so a cursor used with
 * another search is refused rather than read as a place it never was.
 */
const searchCursors = (positions: PositionFormat) => {
  const tagOf = (search: UserSearch) =>
    createHash('sha256')
      .update(JSON.stringify([search.usernamePrefix ?? null, search.emailDomain ?? null]))
      .digest('base64url')
      .slice(0, 12);
  return {
    encode: (search: UserSearch, key: SearchKey): string =>
      Buffer.from(
        // The username key only where it orders: a CREATED_AT cursor is its position alone.
        `${CURSOR_PREFIX}${JSON.stringify([search.field, search.direction, tagOf(search), positions.formatPosition(key.position), search.field === 'USERNAME' ? key.usernameKey : ''])}`,
      ).toString('base64url'),
    decode: (search: UserSearch, cursor: string): Readonly<{ type: 'key'; key: SearchKey }> | Readonly<{ type: 'malformed' }> | Readonly<{ type: 'otherSearch' }> => {
      if (cursor.length > MAX_CURSOR_LENGTH) return { type: 'malformed' };
      const text = Buffer.from(cursor, 'base64url').toString();
      if (!text.startsWith(CURSOR_PREFIX)) return { type: 'malformed' };
      let parts: unknown;
      try {
        parts = JSON.parse(text.slice(CURSOR_PREFIX.length));
      } catch {
        return { type: 'malformed' };
      }
      const read = z.tuple([z.string(), z.string(), z.string(), z.string(), z.string()]).safeParse(parts);
      if (!read.success) return { type: 'malformed' };
      const [field, direction, tag, position, usernameKey] = read.data;
      if (field !== search.field || direction !== search.direction || tag !== tagOf(search)) return { type: 'otherSearch' };
      const parsed = positions.parsePosition(position);
      return parsed.ok ? { type: 'key', key: { usernameKey, position: parsed.value } } : { type: 'malformed' };
    },
  };
};

type SearchQueriesWiring = Readonly<{ queryBus: QueryBus; search: UserSearchReadModel; positions: PositionFormat }>;

export function registerUserSearchQueries({ queryBus: bus, search: readModel, positions }: SearchQueriesWiring): void {
  const cursors = searchCursors(positions);

  bus.register<SearchUsers>('SearchUsers', async ({ data: args }) => {
    const size = pageSizeOf(args);
    if (!size.ok) return size;
    const search = searchOf(args);
    if (!search.ok) return search;
    const bounds: { after?: SearchKey; before?: SearchKey } = {};
    for (const side of ['after', 'before'] as const) {
      const cursor = args[side];
      if (cursor == null) continue;
      const read = cursors.decode(search.value, cursor);
      if (read.type === 'malformed') return invalidPageRequest(side, `"${side}" is not a cursor of this connection`);
      if (read.type === 'otherSearch')
        return invalidPageRequest(side, `"${side}" is a cursor of another filter or orderBy: page with the filter and orderBy that gave it`);
      bounds[side] = read.key;
    }
    const page = await readModel.searchPage(search.value, { ...size.value, ...bounds });
    return ok({ ...connectionOf(page, (user) => cursors.encode(search.value, searchKeyOf(user))), search: search.value });
  });

  bus.register<CountSearchedUsers>('CountSearchedUsers', ({ data: { search } }) => readModel.searchCount(search));
}
