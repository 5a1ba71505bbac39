import { badUserInput } from '../../graphql/errors.js';
import { builder } from '../../graphql/builder.js';
import { countUsers, getUser, getUsers } from '../read-model/queries.js';
import type { UserView } from '../user-view.js';
import { actsFor } from '../../graphql/viewer.js';

/** Emails are personal: with authentication on, only the user and admins see them. */
export const EMAIL_VISIBILITY = 'With authentication on, visible to the user and admins only; null for everyone else.';

export const UserType = builder.objectRef<UserView>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    email: t.exposeString('email', {
      nullable: true,
      description: EMAIL_VISIBILITY,
      authScopes: (user, _args, ctx) => actsFor(ctx.viewer, user.id),
      unauthorizedResolver: () => null,
    }),
    version: t.exposeInt('version', { description: 'Number of events in the user stream; pass it as `expectedVersion`.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => user.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (user) => user.updatedAt }),
  }),
});

builder.queryField('user', (t) =>
  t.field({
    type: UserType,
    nullable: true,
    description: 'The user with this id, or null when there is none.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.queryBus.execute(getUser(String(id)), ctx.scope),
  }),
);

builder.queryField('users', (t) =>
  t.connection(
    {
      type: UserType,
      description: `Users in creation order. \`first\`/\`last\` default to 20 and may be at most 100.`,
      resolve: async (_root, args, ctx) => {
        const page = await ctx.queryBus.execute(getUsers(args), ctx.scope);
        if (!page.ok) throw badUserInput(page.error.message, page.error.argument);
        return page.value;
      },
    },
    {
      name: 'UserConnection',
      fields: (c) => ({
        totalCount: c.int({ resolve: (_connection, _args, ctx) => ctx.queryBus.execute(countUsers(), ctx.scope) }),
      }),
    },
    { name: 'UserEdge' },
  ),
);
