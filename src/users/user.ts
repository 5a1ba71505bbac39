import { assertNever, type Event } from '../kernel/messages.js';
import { requireEntityIdOf, streamCategory } from '../kernel/stream-id.js';
import type { UserCreatedData, UserErasedData, UserUpdatedData } from './event-schemas.js';

/** One stream per user: `user-<user id>`. */
export const USER_STREAMS = streamCategory('user');

/** The id of the user whose stream an event is in. */
export const userIdOf = (event: Readonly<{ streamId: string }>): string => requireEntityIdOf(USER_STREAMS, event.streamId);

/** The newest version of each event's data (older stored ones are upcast on read): src/users/event-schemas.ts. */
export type UserCreated = Event<'UserCreated', UserCreatedData>;
/** Carries only what changed; an absent field kept its value. */
export type UserUpdated = Event<'UserUpdated', UserUpdatedData>;

/**
 * The user's personal data is destroyed (crypto-shredding: their data key
 * with it, in the append's transaction). Their events stay in the log, with
 * `username` and `email` reading null from then on.
 */
export type UserErased = Event<'UserErased', UserErasedData>;

export type UserEvent = UserCreated | UserUpdated | UserErased;

export const userEventTypes: readonly UserEvent['type'][] = ['UserCreated', 'UserUpdated', 'UserErased'];

/**
 * `erased` keeps the id, so the id stays taken: a user id names one person
 * for the life of the log, and an erased user is never re-created.
 */
export type User =
  | Readonly<{ status: 'absent' }>
  | Readonly<{ status: 'registered'; userId: string; username: string; email: string }>
  | Readonly<{ status: 'erased'; userId: string }>;

export const initialState = (): User => ({ status: 'absent' });

/**
 * A personal field that reads null was erased: the user's key is gone. Only
 * the storage layer produces these nulls, and only after a UserErased, but a
 * fold may stop before that event (a snapshot, a bound): it must already
 * answer "erased" and never a half-null user.
 */
export const isRedacted = (data: Readonly<{ username?: string | null; email?: string | null }>): boolean =>
  data.username === null || data.email === null;

export function evolve(state: User, event: UserEvent): User {
  switch (event.type) {
    case 'UserCreated': {
      const { userId, username, email } = event.data;
      if (username === null || email === null) return { status: 'erased', userId };
      return { status: 'registered', userId, username, email };
    }
    case 'UserUpdated': {
      if (state.status !== 'registered') return state;
      if (isRedacted(event.data)) return { status: 'erased', userId: state.userId };
      return {
        ...state,
        username: event.data.username ?? state.username,
        email: event.data.email ?? state.email,
      };
    }
    case 'UserErased':
      return { status: 'erased', userId: event.data.userId };
    default:
      return assertNever(event, 'user event');
  }
}

/** Emails are unique and compared ignoring case; this is the form they are compared in. */
export const emailKey = (email: string): string => email.toLowerCase();

export const EMAIL_SCOPE = 'user-email';
