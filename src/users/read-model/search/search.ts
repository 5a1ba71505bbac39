import type { KeysetPage, KeysetPageRequest } from '../../../kernel/keyset-page.js';
import type { Position } from '../../../kernel/position.js';
import type { UserView } from '../../user-view.js';

/**
 * User search: `users(filter:, orderBy:)`, answered from its own projection
 * (`user-search`), apart from the creation-ordered users read model.
 *
 * Case rules. Usernames are ASCII (src/users/input-rules.ts) and are matched
 * and ordered by their lower-case form, the username key: `usernamePrefix`
 * "Al" finds "alice" and "ALBERT", and USERNAME order puts "bob" between
 * "Alice" and "Carol". Ties (usernames are not unique) go by creation. An
 * email's domain is the part after its last "@", compared in lower case as
 * emails are (`emailKey`), and matched whole: "example.com" does not find
 * "mail.example.com".
 */
export type UserOrderField = 'CREATED_AT' | 'USERNAME';
export type OrderDirection = 'ASC' | 'DESC';

export type UserSearch = Readonly<{
  /** Normalised: lower case, never empty (an empty filter is none). */
  usernamePrefix?: string;
  emailDomain?: string;
  field: UserOrderField;
  direction: OrderDirection;
}>;

/**
 * Where a row stands in a search's order: by creation position alone, or by
 * username key and then creation position (which is unique, so every key is).
 */
export type SearchKey = Readonly<{ usernameKey: string; position: Position }>;

/**
 * Bounds and directions are the connection's: `after` precedes in the
 * search's order, whichever its direction; each adapter turns that into
 * ascending or descending scans of its indexes.
 */
export type SearchPageRequest = KeysetPageRequest<SearchKey>;

export type UserSearchPage = KeysetPage<UserView>;

/**
 * What `SearchUsers` needs from a read store; one implementation per store
 * adapter. Its methods sit beside UsersReadModel's in the users module's read
 * model (flat: the SQLite read-repair guard wraps top-level methods only).
 */
export interface UserSearchReadModel {
  searchPage(search: UserSearch, request: SearchPageRequest): Promise<UserSearchPage>;
  /** The users the search's filter matches: a count over the filter's index. */
  searchCount(search: UserSearch): Promise<number>;
}

export const usernameKeyOf = (username: string): string => username.toLowerCase();

/** The part after the last "@", in lower case. */
export const emailDomainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** Erased users are never search rows (see `searchChangeOf`): their empty key is never read. */
export const searchKeyOf = (user: UserView): SearchKey => ({ usernameKey: usernameKeyOf(user.username ?? ''), position: user.createdPosition });

/**
 * Above every username key that starts with `prefix`, and below every other
 * key above it: keys hold only [a-z0-9_.-], all below "~". So a prefix is a
 * range of the index (`>= prefix AND < upper`), with no LIKE and so no
 * wildcards to escape.
 */
export const prefixUpperBound = (prefix: string): string => `${prefix}~`;

/** Compares keys in the search's ascending order (`direction` ASC). */
export function compareKeys(field: UserOrderField, a: SearchKey, b: SearchKey): number {
  if (field === 'USERNAME' && a.usernameKey !== b.usernameKey) return a.usernameKey < b.usernameKey ? -1 : 1;
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

/** Whether the user passes the search's filter. */
export function matchesFilter(search: UserSearch, user: UserView): boolean {
  if (user.username === null || user.email === null) return false;
  if (search.usernamePrefix !== undefined && !usernameKeyOf(user.username).startsWith(search.usernamePrefix)) return false;
  if (search.emailDomain !== undefined && emailDomainOf(user.email) !== search.emailDomain) return false;
  return true;
}

/**
 * What one user's new state does to the search rows. An erased user (or
 * one whose personal fields read as null because their key is destroyed)
 * leaves the search: it could match no filter, and its row would only keep
 * bytes an erasure must remove.
 */
export type SearchChange = Readonly<{ type: 'upsert'; user: UserView; usernameKey: string; emailDomain: string }> | Readonly<{ type: 'delete'; userId: string }>;

export const searchChangeOf = (user: UserView): SearchChange =>
  user.erased || user.username === null || user.email === null
    ? { type: 'delete', userId: user.id }
    : { type: 'upsert', user, usernameKey: usernameKeyOf(user.username), emailDomain: emailDomainOf(user.email) };
