import { readKeysetPage } from '../../kernel/keyset-page.js';
import type { StoredEvent } from '../../kernel/messages.js';
import type { Position } from '../../kernel/position.js';
import type { MemoryProjection } from '../../stores/memory/projection-sink.js';
import { userEventTypes, type UserEvent } from '../user.js';
import { evolveUserView, type UserView } from '../user-view.js';
import type { UserPage, UsersReadModel } from './read-model.js';

/**
 * The users read model in memory: one map for lookups by id and one array in
 * creation order for pages, the two indexes the SQLite table has. Views are
 * replaced, never changed in place, so a page handed out stays as it was.
 */
export type MemoryUsersRows = Readonly<{
  byId: Map<string, UserView>;
  /** Sorted by `createdPosition`. */
  inCreationOrder: UserView[];
}>;

/** Index of the first user created after `position` (`strictly`) or at or after it. */
function indexFrom(users: readonly UserView[], position: Position, strictly: boolean): number {
  let low = 0;
  let high = users.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const key = users[middle]!.createdPosition;
    if (key < position || (strictly && key === position)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function storeView(rows: MemoryUsersRows, view: UserView): void {
  const { inCreationOrder: ordered } = rows;
  const before = rows.byId.get(view.id);
  rows.byId.set(view.id, view);
  if (before?.createdPosition === view.createdPosition) {
    ordered[indexFrom(ordered, view.createdPosition, false)] = view;
    return;
  }
  if (before) ordered.splice(indexFrom(ordered, before.createdPosition, false), 1);
  // The log hands creations over in position order, so this is almost always the end.
  const at = ordered.length === 0 || ordered.at(-1)!.createdPosition < view.createdPosition ? ordered.length : indexFrom(ordered, view.createdPosition, false);
  ordered.splice(at, 0, view);
}

export const usersMemoryProjection: MemoryProjection<MemoryUsersRows> = {
  name: 'users',
  eventTypes: userEventTypes,
  create: () => ({ byId: new Map(), inCreationOrder: [] }),
  apply: (rows, events) => {
    // The batch's users folded apart from the rows: nothing is stored until the whole batch folded.
    const changed = new Map<string, UserView>();
    for (const event of events as readonly StoredEvent<UserEvent>[]) {
      // By the id in the event, not the stream id, which names the stream and not the user.
      const { userId } = event.data;
      const after = evolveUserView(changed.get(userId) ?? rows.byId.get(userId) ?? null, event);
      if (after !== null) changed.set(after.id, after);
    }
    return () => {
      for (const view of changed.values()) storeView(rows, view);
    };
  },
  reset: (rows) => {
    rows.byId.clear();
    rows.inCreationOrder.length = 0;
  },
};

export function createMemoryUsersReadModel(rows: MemoryUsersRows, onQuery: () => void = () => {}): UsersReadModel {
  const ordered = rows.inCreationOrder;
  return {
    byIds: async (ids) => {
      onQuery();
      return [...new Set(ids)].flatMap((id) => rows.byId.get(id) ?? []);
    },
    page: async (request): Promise<UserPage> => {
      onQuery();
      return readKeysetPage(request, {
        // `backward` nearest the cursor first, as readKeysetPage asks.
        fetch: (direction, count, after, before) => {
          const start = after === undefined ? 0 : indexFrom(ordered, after, true);
          const end = Math.max(start, before === undefined ? ordered.length : indexFrom(ordered, before, false));
          return direction === 'forward'
            ? ordered.slice(start, Math.min(end, start + count))
            : ordered.slice(Math.max(start, end - count), end).reverse();
        },
        anyAtOrBefore: (position) => ordered.length > 0 && ordered[0]!.createdPosition <= position,
        anyAtOrAfter: (position) => ordered.length > 0 && ordered.at(-1)!.createdPosition >= position,
      });
    },
    count: async () => rows.byId.size,
  };
}
