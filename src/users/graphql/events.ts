import { builder } from '../../graphql/builder.js';
import { badUserInput } from '../../graphql/errors.js';
import { LoggedEventInterface, registerEventStreamOwner, registerLoggedEventTypes } from '../../graphql/event-log.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { streamIdOf } from '../../kernel/stream-id.js';
import { USER_STREAMS, userEventTypes, userIdOf, type UserCreated, type UserErased, type UserUpdated } from '../user.js';
import { userAsLeftBy, userAsNewAs } from './event-users.js';
import { privateEmailField, USER_ID_ARGUMENT, USER_TYPENAME, UserStateType, UserType, userGlobalId, userIdArgument } from './user-type.js';

export type StoredUserEvent = StoredEvent<UserCreated> | StoredEvent<UserUpdated> | StoredEvent<UserErased>;

const USER_EVENT_TYPES = new Set<string>(userEventTypes);

/** The user event types and the `userEvents` subscription; returns the `UserEvent` interface, which history pages list. */
export function defineUserEventsSubscription() {
  // In the admins' audit feed (`events`), narrowed to one user by the user's id.
  registerLoggedEventTypes(userEventTypes);
  registerEventStreamOwner(USER_TYPENAME, USER_STREAMS, { ownsBareIds: true });

  const UserEventInterface = builder.interfaceRef<StoredUserEvent>('UserEvent').implement({
    description: 'A change to a user, as recorded in the event store.',
    interfaces: [LoggedEventInterface],
    resolveType: (event) => event.type,
    fields: (t) => ({
      position: t.string({
        description: 'Global position in the event log; pass it as `after` to resume after this event.',
        resolve: (event, _args, ctx) => ctx.positions.formatPosition(event.position),
      }),
      userId: t.id({ description: 'Global id of the user, `User:<user id>`.', resolve: (event) => userGlobalId(userIdOf(event)) }),
      version: t.int({ description: 'The user version this event produced.', resolve: (event) => event.streamVersion }),
      occurredAt: t.field({ type: 'DateTime', resolve: (event) => event.metadata.occurredAt }),
      user: t.field({
        type: UserType,
        description:
          'The user now: at least as new as this event (never older), so a normalised client cache that merges it never moves backwards, even while old events are replayed.',
        resolve: (event, _args, ctx) => userAsNewAs(event, ctx),
      }),
      state: t.field({
        type: UserStateType,
        description: 'The user exactly as this event left it, for history views. Not a `Node`, so caches keep it apart from `user`.',
        resolve: (event, _args, ctx) => userAsLeftBy(event, ctx),
      }),
    }),
  });

  builder.objectRef<StoredEvent<UserCreated>>('UserCreated').implement({
    interfaces: [LoggedEventInterface, UserEventInterface],
    fields: (t) => ({
      username: t.string({ nullable: true, description: 'Null once the user is erased.', resolve: (event) => event.data.username }),
      email: privateEmailField(t, { ownerId: userIdOf, email: (event) => event.data.email, note: 'Null once the user is erased.' }),
      createdBy: t.id({
        nullable: true,
        description:
          'Global id of the user whose bearer token created this user (an admin, or the user themself). Null when no token was needed (authentication off) and for users created before this was recorded (UserCreated v1).',
        resolve: (event) => (event.data.createdBy === null ? null : userGlobalId(event.data.createdBy)),
      }),
    }),
  });

  builder.objectRef<StoredEvent<UserUpdated>>('UserUpdated').implement({
    description: 'Only the fields that changed are non-null; once the user is erased, none is.',
    interfaces: [LoggedEventInterface, UserEventInterface],
    fields: (t) => ({
      username: t.string({ nullable: true, resolve: (event) => event.data.username ?? null }),
      email: privateEmailField(t, {
        ownerId: userIdOf,
        email: (event) => event.data.email,
        note: 'The new email, null when it did not change.',
      }),
    }),
  });

  builder.objectRef<StoredEvent<UserErased>>('UserErased').implement({
    description:
      'The user’s personal data was destroyed: from now on `username` and `email` read null in every event of the user, and `erased` is true in every state.',
    interfaces: [LoggedEventInterface, UserEventInterface],
    fields: (t) => ({
      erasedBy: t.id({
        nullable: true,
        description: 'Global id of the admin whose bearer token erased the user. Null when no token was needed (authentication off).',
        resolve: (event) => (event.data.erasedBy === null ? null : userGlobalId(event.data.erasedBy)),
      }),
    }),
  });

  builder.subscriptionField('userEvents', (t) =>
    t.field({
      type: UserEventInterface,
      description:
        'User events as they are appended. With `after`, first every stored event after that position, then live, with no gap or duplicate.',
      args: {
        userId: t.arg.id({ description: `Only this user’s events. ${USER_ID_ARGUMENT}` }),
        after: t.arg.string({ description: 'A `position` from an event or a mutation result; "0" replays the whole log.' }),
      },
      subscribe: (_root, { userId, after }, ctx) => {
        const id = userId == null ? undefined : userIdArgument(userId);
        if (id === null) throw badUserInput('"userId" is the global id of another type, not of a User', 'userId');
        return ctx.followEvents({
          after: after ?? null,
          types: USER_EVENT_TYPES,
          ...(id === undefined ? {} : { streamId: streamIdOf(USER_STREAMS, id) }),
        }) as Promise<AsyncIterableIterator<StoredUserEvent>>;
      },
      resolve: (event) => event,
    }),
  );
  return UserEventInterface;
}
