import { GraphQLError } from 'graphql';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { badUserInput } from '../../graphql/errors.js';
import { isAdmin } from '../../graphql/viewer.js';
import { countSearchedUsers, searchUsers, type SearchArgs, type UserSearchConnection } from '../read-model/search/queries.js';

/**
 * `users(filter:, orderBy:)`: the user search read model. Without either
 * argument `users` stays the creation-ordered list it always was, cursors
 * and all; with one, the search answers, with cursors of its own.
 */
export const UserOrderFieldEnum = builder.enumType('UserOrderField', {
  values: {
    CREATED_AT: { description: 'When the user was created (their position in the log).' },
    USERNAME: { description: 'Username, ignoring case; users with the same username by creation.' },
  } as const,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  values: { ASC: { description: 'Ascending.' }, DESC: { description: 'Descending.' } } as const,
});

export const UserFilterInput = builder.inputType('UserFilter', {
  description: 'Users matching every field given. An empty string filters nothing.',
  fields: (t) => ({
    usernamePrefix: t.string({ description: 'Usernames starting with this, ignoring case (letters, digits, "_", "." and "-", at most 32).' }),
    emailDomain: t.string({
      description:
        'Emails at exactly this domain (the part after "@", without it), ignoring case; subdomains are other domains. Admins only, as emails are private: anyone else gets a FORBIDDEN error.',
    }),
  }),
});

export const UserOrderInput = builder.inputType('UserOrder', {
  description: 'How a user search is ordered; each order has cursors of its own.',
  fields: (t) => ({
    field: t.field({ type: UserOrderFieldEnum, required: true, defaultValue: 'CREATED_AT' }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'ASC' }),
  }),
});

/** Filtering by domain would tell who has an email there: only those who may see every email may. */
function checkMayFilter(args: SearchArgs, ctx: GraphQLContext): void {
  if (!args.filter?.emailDomain || isAdmin(ctx.viewer)) return;
  throw new GraphQLError(
    ctx.viewer.type === 'anonymous'
      ? 'Filtering users by "emailDomain" is for admins: send an admin’s bearer token (Authorization: Bearer <token>).'
      : 'Filtering users by "emailDomain" is for admins; this token has no admin role.',
    { extensions: { code: 'FORBIDDEN', argument: 'filter.emailDomain' } },
  );
}

export async function loadUserSearch(args: SearchArgs, ctx: GraphQLContext): Promise<UserSearchConnection> {
  checkMayFilter(args, ctx);
  const page = await ctx.queryBus.execute(searchUsers(args), ctx.scope);
  if (!page.ok) throw badUserInput(page.error.message, page.error.argument);
  return page.value;
}

export const countUserSearch = (connection: UserSearchConnection, ctx: GraphQLContext): Promise<number> =>
  ctx.queryBus.execute(countSearchedUsers(connection.search), ctx.scope);
