import type { CacheTag } from '../graphql/cache-tags.js';
import { assertNever, type StoredEvent } from '../kernel/messages.js';
import { userEventTypes, userIdOf, type UserEvent } from './user.js';
import { USER_TYPENAME, userGlobalId } from './graphql/user-type.js';

/** Every `users` page (and its `totalCount`): a list tag, since a page cannot name the users it does not hold yet. */
export const USERS_LIST_TAG: CacheTag = { typename: 'UserConnection' };

export const userTag = (userId: string): CacheTag => ({ typename: USER_TYPENAME, id: userGlobalId(userId) });

const isUserEvent = (event: StoredEvent): event is StoredEvent<UserEvent> => (userEventTypes as readonly string[]).includes(event.type);

/** The cached answers a user event can change: adding an event type fails to compile until it is listed here. */
export function userCacheTags(event: StoredEvent): readonly CacheTag[] {
  if (!isUserEvent(event)) return [];
  const user = userTag(userIdOf(event));
  switch (event.type) {
    case 'UserCreated':
      return [user, USERS_LIST_TAG];
    case 'UserUpdated':
      // A rename or a new email can move the user into, out of or within a search (`users(filter:, orderBy:)`).
      return [user, USERS_LIST_TAG];
    case 'UserErased':
      // The user leaves every search and reads anonymised.
      return [user, USERS_LIST_TAG];
    default:
      return assertNever(event, 'user event');
  }
}
