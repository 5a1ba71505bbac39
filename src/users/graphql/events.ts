import { builder } from '../../graphql/builder.js';
import { badUserInput } from '../../graphql/errors.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { actsFor } from '../../graphql/viewer.js';
import { userEventTypes, type UserCreated, type UserUpdated } from '../user.js';
import { EMAIL_VISIBILITY } from './user-type.js';

type StoredUserEvent = StoredEvent<UserCreated> | StoredEvent<UserUpdated>;

const UserEventInterface = builder.interfaceRef<StoredUserEvent>('UserEvent').implement({
  description: 'A change to a user, as recorded in the event store.',
  resolveType: (event) => event.type,
  fields: (t) => ({
    position: t.string({
      description: 'Global position in the event log; pass it as `after` to resume after this event.',
      resolve: (event, _args, ctx) => ctx.store.formatPosition(event.position),
    }),
    userId: t.id({ resolve: (event) => event.streamId }),
    version: t.int({ description: 'The user version this event produced.', resolve: (event) => event.streamVersion }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => event.metadata.occurredAt }),
  }),
});

builder.objectRef<StoredEvent<UserCreated>>('UserCreated').implement({
  interfaces: [UserEventInterface],
  fields: (t) => ({
    username: t.string({ resolve: (event) => event.data.username }),
    email: t.string({
      nullable: true,
      description: EMAIL_VISIBILITY,
      authScopes: (event, _args, ctx) => actsFor(ctx.viewer, event.streamId),
      unauthorizedResolver: () => null,
      resolve: (event) => event.data.email,
    }),
  }),
});

builder.objectRef<StoredEvent<UserUpdated>>('UserUpdated').implement({
  description: 'Only the fields that changed are non-null.',
  interfaces: [UserEventInterface],
  fields: (t) => ({
    username: t.string({ nullable: true, resolve: (event) => event.data.username ?? null }),
    email: t.string({
      nullable: true,
      description: `The new email, null when it did not change. ${EMAIL_VISIBILITY}`,
      authScopes: (event, _args, ctx) => actsFor(ctx.viewer, event.streamId),
      unauthorizedResolver: () => null,
      resolve: (event) => event.data.email ?? null,
    }),
  }),
});

const USER_EVENT_TYPES = new Set<string>(userEventTypes);

builder.subscriptionField('userEvents', (t) =>
  t.field({
    type: UserEventInterface,
    description:
      'User events as they are appended. With `after`, first every stored event after that position, then live, with no gap or duplicate.',
    args: {
      userId: t.arg.id({ description: 'Only this user’s events.' }),
      after: t.arg.string({ description: 'A `position` from an event or a mutation result.' }),
    },
    subscribe: async (_root, { userId, after }, ctx) => {
      const from = after == null ? await ctx.store.headPosition() : ctx.store.parsePosition(after);
      if (from === null) throw badUserInput(`"after" is not a position of this event store`, 'after');
      if (after != null && from > (await ctx.store.headPosition())) {
        // Not from this store's log (another store, or one that was reset): waiting would never deliver it.
        throw badUserInput(`"after" is beyond the end of the event log`, 'after');
      }
      return ctx.followEvents({
        after: from,
        types: USER_EVENT_TYPES,
        ...(userId == null ? {} : { streamId: String(userId) }),
      }) as AsyncIterable<StoredUserEvent>;
    },
    resolve: (event) => event,
  }),
);
