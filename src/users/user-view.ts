import type { StoredEvent } from '../kernel/messages.js';
import type { Position } from '../kernel/position.js';
import { isRedacted, userEventTypes, type UserEvent } from './user.js';

/** A user as readers see it: the read model's row, and the `User` GraphQL type. */
export type UserView = Readonly<{
  id: string;
  /** Null once the user is erased, as is `email`. */
  username: string | null;
  email: string | null;
  /**
   * The user's personal data is gone from the log. True from the UserErased
   * event on, and also for any earlier state folded after the erasure (time
   * travel, history): those events' personal fields read null too, so their
   * personal data is gone from that past as well.
   */
  erased: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Global position of the UserCreated event: the stable order of `users`. */
  createdPosition: Position;
}>;

const USER_EVENT_TYPES: ReadonlySet<string> = new Set(userEventTypes);
const isUserEvent = (event: StoredEvent): event is StoredEvent<UserEvent> => USER_EVENT_TYPES.has(event.type);

/** What is left of a user once erased: id, version and times, never a personal field. */
const anonymised = (view: UserView): UserView => ({ ...view, username: null, email: null, erased: true });

/**
 * Folds one stored event into the view. The projection persists this fold;
 * the same function reads a user straight from its stream when the read
 * model is behind, so both can never disagree.
 */
export function evolveUserView(view: UserView | null, event: StoredEvent): UserView | null {
  if (!isUserEvent(event)) return view;
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'UserCreated': {
      const { userId, username, email } = event.data;
      const created: UserView = { id: userId, username, email, erased: false, version: event.streamVersion, createdAt: at, updatedAt: at, createdPosition: event.position };
      return isRedacted(event.data) ? anonymised(created) : created;
    }
    case 'UserUpdated': {
      if (view === null) return null;
      const { username, email } = event.data;
      const updated: UserView = {
        ...view,
        username: username ?? view.username,
        email: email ?? view.email,
        version: event.streamVersion,
        updatedAt: at,
      };
      return view.erased || isRedacted(event.data) ? anonymised(updated) : updated;
    }
    case 'UserErased': {
      if (view === null) return null;
      return anonymised({ ...view, version: event.streamVersion, updatedAt: at });
    }
  }
}

export const userViewFromStream = (events: readonly StoredEvent[]): UserView | null => events.reduce(evolveUserView, null);
