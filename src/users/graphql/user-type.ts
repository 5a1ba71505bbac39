import { badUserInput } from '../../graphql/errors.js';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { encodeGlobalId, readIdArgument } from '../../graphql/global-id.js';
import { NodeInterface, registerNodeType } from '../../graphql/node.js';
import { countUsers, getUser, getUsers, type UserConnection } from '../read-model/queries.js';
import type { UserSearchConnection } from '../read-model/search/queries.js';
import { countUserSearch, loadUserSearch, UserFilterInput, UserOrderInput } from './user-search.js';
import type { UserView } from '../user-view.js';
import { actsFor } from '../../graphql/viewer.js';
import { loadUserAsOf, UserAsOfInput } from './time-travel.js';
import { recordPersonal, recordRead, recordUncacheable } from '../../graphql/cache-tags.js';
import { USER_SEARCH_TAG, USERS_COUNT_TAG, USERS_TAIL_TAG, userTag } from '../cache-tags.js';

/** Emails are personal: with authentication on, only the user and admins see them. */
export const EMAIL_VISIBILITY = 'With authentication on, visible to the user and admins only; null for everyone else.';

export const USER_TYPENAME = 'User';

/** The id clients see for a user: global, `User:<user id>`. */
export const userGlobalId = (userId: string): string => encodeGlobalId(USER_TYPENAME, userId);

export const USER_ID_ARGUMENT = 'A global id (`User:…`), or a user id stored before global ids existed.';

/** The user id an argument names, or null when it is a global id of another type (which names no user). */
export function userIdArgument(text: string | number): string | null {
  const read = readIdArgument(String(text), USER_TYPENAME);
  return read.type === 'own' ? read.id : null;
}

const loadUser = (userId: string, ctx: GraphQLContext) => {
  recordRead(ctx, userTag(userId));
  return ctx.queryBus.execute(getUser(userId), ctx.scope);
};

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/**
 * An email field, wherever one is shown (the user, its state, its events):
 * the viewer sees it only when acting for its owner, and everyone else gets
 * null rather than an error, so one private field never fails a whole list.
 */
export function privateEmailField<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, Parent>,
  field: Readonly<{
    ownerId: (parent: Parent) => string;
    email: (parent: Parent) => string | null | undefined;
    /** Said before the visibility rule in the field's description. */
    note?: string;
  }>,
) {
  return t.string({
    nullable: true,
    description: field.note === undefined ? EMAIL_VISIBILITY : `${field.note} ${EMAIL_VISIBILITY}`,
    authScopes: (parent, _args, ctx) => actsFor(ctx.viewer, field.ownerId(parent)),
    unauthorizedResolver: () => null,
    resolve: (parent, _args, ctx) => {
      // Shown to its owner or an admin: never for a shared cache (authentication off, everyone sees it alike).
      if (ctx.viewer.type === 'user') recordPersonal(ctx);
      return field.email(parent) ?? null;
    },
  });
}

/** What a user holds, shared by the entity (`User`) and its state at one event (`UserState`). */
const userValueFields = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, UserView>) => ({
  username: t.exposeString('username', { nullable: true, description: 'Null once the user is erased.' }),
  email: privateEmailField(t, { ownerId: (user) => user.id, email: (user) => user.email, note: 'Null once the user is erased.' }),
  erased: t.exposeBoolean('erased', {
    description:
      'The user’s personal data (`username`, `email`) is destroyed: they read null. Also true for a past state (history, `asOf`) of a user erased since: their personal data is gone from the whole log.',
  }),
  version: t.exposeInt('version', { description: 'Number of events in the user stream; pass it as `expectedVersion`.' }),
  createdAt: t.field({ type: 'DateTime', resolve: (user) => user.createdAt }),
  updatedAt: t.field({ type: 'DateTime', resolve: (user) => user.updatedAt }),
});

export const UserType = builder.objectRef<UserView>(USER_TYPENAME);

/**
 * A user as one event left it, for history views. A value, not an entity: it
 * has no `id` and does not implement `Node`, so normalised client caches
 * (Apollo, graphcache, Relay) never merge an old state into the current `User`.
 */
export const UserStateType = builder.objectRef<UserView>('UserState');

/** The users' types, their query root fields, and `User` as a `node`. */
export function defineUserQueries(): void {
  UserType.implement({
    interfaces: [NodeInterface],
    fields: (t) => ({
      id: t.id({ description: 'Global id, `User:<user id>`.', resolve: (user) => userGlobalId(user.id) }),
      ...userValueFields(t),
    }),
  });

  UserStateType.implement({
    description: 'A user as one event left it. Not a `Node`: caches keep it apart from the current `User`.',
    fields: (t) => ({
      userId: t.id({ description: 'Global id of the user, `User:<user id>`.', resolve: (user) => userGlobalId(user.id) }),
      ...userValueFields(t),
    }),
  });

builder.queryField('user', (t) =>
  t.field({
    type: UserType,
    nullable: true,
    description:
      'The user with this id, or null when there is none. With `asOf`, the user as they were then (time travel): folded from their events, null where they did not exist yet.',
    args: {
      id: t.arg.id({ required: true, description: USER_ID_ARGUMENT }),
      asOf: t.arg({
        type: UserAsOfInput,
        description:
          'A point in the user’s history. The answer is that past state under the user’s own id: ask for it with a fetch policy that bypasses a normalised cache, or it replaces the current user there.',
      }),
    },
    resolve: (_root, { id, asOf }, ctx) => {
      const userId = userIdArgument(id);
      if (userId === null) return null;
      if (asOf) recordUncacheable(ctx);
      return asOf ? loadUserAsOf(userId, asOf, ctx) : loadUser(userId, ctx);
    },
  }),
);

// Every lookup of one request, by `user`, `node` or `nodes`, shares the request's DataLoader: one read.
registerNodeType(USER_TYPENAME, (ids, ctx) => Promise.all(ids.map((id) => loadUser(id, ctx))));

builder.queryField('users', (t) =>
  t.connection(
    {
      type: UserType,
      description:
        'Users in creation order; with `filter` or `orderBy`, the users that match, in that order (the user search read model). Cursors belong to the filter and order they came from: one used with another is refused (BAD_USER_INPUT). `first`/`last` default to 20 and may be at most 100.',
      args: {
        filter: t.arg({ type: UserFilterInput, description: 'Only the users that match; answered by the user search read model.' }),
        orderBy: t.arg({ type: UserOrderInput, description: 'The order of the search; without `filter` too, all users in it.' }),
      },
      resolve: async (_root, { filter, orderBy, ...args }, ctx): Promise<UserConnection & { search?: UserSearchConnection['search'] }> => {
        if (filter != null || orderBy != null) {
          recordRead(ctx, USER_SEARCH_TAG);
          return loadUserSearch({ ...args, filter, orderBy }, ctx);
        }
        const page = await ctx.queryBus.execute(getUsers(args), ctx.scope);
        if (!page.ok) throw badUserInput(page.error.message, page.error.argument);
        recordRead(ctx, ...page.value.edges.map((edge) => userTag(edge.node.id)));
        // Only a page without a next one can gain the next user created (src/users/cache-tags.ts).
        if (!page.value.pageInfo.hasNextPage) recordRead(ctx, USERS_TAIL_TAG);
        return page.value;
      },
    },
    {
      name: 'UserConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'All users, or with `filter`, the users that match it.',
          // Unfiltered, the users read model's running count: a count over the search table scans it all.
          resolve: (connection, _args, ctx) => {
            recordRead(ctx, connection.search ? USER_SEARCH_TAG : USERS_COUNT_TAG);
            return connection.search && (connection.search.usernamePrefix !== undefined || connection.search.emailDomain !== undefined)
              ? countUserSearch({ ...connection, search: connection.search }, ctx)
              : ctx.queryBus.execute(countUsers(), ctx.scope);
          },
        }),
      }),
    },
    { name: 'UserEdge' },
  ),
);
}
