import { assertNever, type Event } from '../kernel/messages.js';
import { requireEntityIdOf, streamCategory } from '../kernel/stream-id.js';
import type { UserCreatedData, UserUpdatedData } from './event-schemas.js';

/** One stream per user: `user-<user id>`. */
export const USER_STREAMS = streamCategory('user');

/** The id of the user whose stream an event is in. */
export const userIdOf = (event: Readonly<{ streamId: string }>): string => requireEntityIdOf(USER_STREAMS, event.streamId);

/** The newest version of each event's data (older stored ones are upcast on read): src/users/event-schemas.ts. */
export type UserCreated = Event<'UserCreated', UserCreatedData>;
/** Carries only what changed; an absent field kept its value. */
export type UserUpdated = Event<'UserUpdated', UserUpdatedData>;

export type UserEvent = UserCreated | UserUpdated;

export const userEventTypes: readonly UserEvent['type'][] = ['UserCreated', 'UserUpdated'];

export type User =
  | Readonly<{ status: 'absent' }>
  | Readonly<{ status: 'registered'; userId: string; username: string; email: string }>;

export const initialState = (): User => ({ status: 'absent' });

export function evolve(state: User, event: UserEvent): User {
  switch (event.type) {
    case 'UserCreated': {
      const { userId, username, email } = event.data;
      return { status: 'registered', userId, username, email };
    }
    case 'UserUpdated': {
      if (state.status !== 'registered') return state;
      return {
        ...state,
        username: event.data.username ?? state.username,
        email: event.data.email ?? state.email,
      };
    }
    default:
      return assertNever(event, 'user event');
  }
}

/** Emails are unique and compared ignoring case; this is the form they are compared in. */
export const emailKey = (email: string): string => email.toLowerCase();

export const EMAIL_SCOPE = 'user-email';
