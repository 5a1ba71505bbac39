import { readKeysetPage } from '../../../kernel/keyset-page.js';
import type { StoredEvent } from '../../../kernel/messages.js';
import type { MemoryProjection } from '../../../stores/memory/projection-sink.js';
import { userEventTypes, type UserEvent } from '../../user.js';
import { evolveUserView, type UserView } from '../../user-view.js';
import { compareKeys, matchesFilter, searchChangeOf, searchKeyOf, type SearchKey, type UserOrderField, type UserSearch, type UserSearchReadModel } from './search.js';

/**
 * The search rows in memory: users by id, and each order's sorted list,
 * built again on the first read after a change. Memory serves tests and
 * small embedded runs; the databases keep real indexes.
 */
export type MemoryUserSearchRows = Readonly<{
  byId: Map<string, UserView>;
  sorted: Map<UserOrderField, readonly UserView[]>;
}>;

export const userSearchMemoryProjection: MemoryProjection<MemoryUserSearchRows> = {
  name: 'user-search',
  eventTypes: userEventTypes,
  create: () => ({ byId: new Map(), sorted: new Map() }),
  apply: (rows, events) => {
    const changed = new Map<string, UserView>();
    for (const event of events as readonly StoredEvent<UserEvent>[]) {
      const { userId } = event.data;
      const after = evolveUserView(changed.get(userId) ?? rows.byId.get(userId) ?? null, event);
      if (after !== null) changed.set(after.id, after);
    }
    return () => {
      for (const view of changed.values()) {
        const change = searchChangeOf(view);
        if (change.type === 'delete') rows.byId.delete(change.userId);
        else rows.byId.set(view.id, change.user);
      }
      if (changed.size > 0) rows.sorted.clear();
    };
  },
  reset: (rows) => {
    rows.byId.clear();
    rows.sorted.clear();
  },
};

function sortedBy(rows: MemoryUserSearchRows, field: UserOrderField): readonly UserView[] {
  let sorted = rows.sorted.get(field);
  if (!sorted) {
    sorted = [...rows.byId.values()].sort((a, b) => compareKeys(field, searchKeyOf(a), searchKeyOf(b)));
    rows.sorted.set(field, sorted);
  }
  return sorted;
}

export function createMemoryUserSearchReadModel(rows: MemoryUserSearchRows, onQuery: () => void = () => {}): UserSearchReadModel {
  /** The matching users in the search's order (its direction included). */
  const matching = (search: UserSearch) => {
    const ascending = sortedBy(rows, search.field).filter((user) => matchesFilter(search, user));
    return search.direction === 'ASC' ? ascending : ascending.reverse();
  };
  /** Negative when `a` comes first in the search's order. */
  const compare = (search: UserSearch, a: SearchKey, b: SearchKey) => (search.direction === 'ASC' ? 1 : -1) * compareKeys(search.field, a, b);
  return {
    searchPage: async (search, request) => {
      onQuery();
      const users = matching(search);
      return readKeysetPage(request, {
        fetch: (direction, count, after, before) => {
          const between = users.filter(
            (user) =>
              (after === undefined || compare(search, searchKeyOf(user), after) > 0) &&
              (before === undefined || compare(search, searchKeyOf(user), before) < 0),
          );
          return direction === 'forward' ? between.slice(0, count) : between.slice(-count).reverse();
        },
        anyAtOrBefore: (key) => users.some((user) => compare(search, searchKeyOf(user), key) <= 0),
        anyAtOrAfter: (key) => users.some((user) => compare(search, searchKeyOf(user), key) >= 0),
      });
    },
    searchCount: async (search) => {
      onQuery();
      return matching(search).length;
    },
  };
}
