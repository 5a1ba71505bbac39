import type { CacheTag } from '../graphql/cache-tags.js';
import { assertNever, type StoredEvent } from '../kernel/messages.js';
import { userEventTypes, userIdOf, type UserEvent } from './user.js';
import { USER_TYPENAME, userGlobalId } from './graphql/user-type.js';

/**
 * `users` pages in creation order change in three ways only, each with its
 * own tag, so 1% writes do not empty every cached page:
 * - a user on the page changes: its `User:<id>` tag;
 * - a new user joins the end: the pages that reach the end, which are
 *   exactly those without a next page (`USERS_TAIL_TAG`);
 * - the count moves: answers with `totalCount` (`USERS_COUNT_TAG`).
 * Erased users keep their row, place and count (README "Erasure").
 * A search (`filter`, `orderBy`) can gain, lose or reorder users on any
 * change, and is tagged as a whole (`USER_SEARCH_TAG`).
 */
export const USERS_TAIL_TAG: CacheTag = { typename: 'UserConnection', id: 'tail' };
export const USERS_COUNT_TAG: CacheTag = { typename: 'UserConnection', id: 'count' };
export const USER_SEARCH_TAG: CacheTag = { typename: 'UserConnection', id: 'search' };

export const userTag = (userId: string): CacheTag => ({ typename: USER_TYPENAME, id: userGlobalId(userId) });

const isUserEvent = (event: StoredEvent): event is StoredEvent<UserEvent> => (userEventTypes as readonly string[]).includes(event.type);

/** The cached answers a user event can change: adding an event type fails to compile until it is listed here. */
export function userCacheTags(event: StoredEvent): readonly CacheTag[] {
  if (!isUserEvent(event)) return [];
  const user = userTag(userIdOf(event));
  switch (event.type) {
    case 'UserCreated':
      return [user, USERS_TAIL_TAG, USERS_COUNT_TAG, USER_SEARCH_TAG];
    case 'UserUpdated':
      // A rename or a new email can move the user into, out of or within a search (`users(filter:, orderBy:)`).
      return [user, USER_SEARCH_TAG];
    case 'UserErased':
      // The user leaves every search and reads anonymised.
      return [user, USER_SEARCH_TAG];
    default:
      return assertNever(event, 'user event');
  }
}
