import type { StoredEvent } from '../kernel/messages.js';
import type { Position } from '../kernel/position.js';
import type { UserEvent } from './user.js';

/** A user as readers see it: the read model's row, and the `User` GraphQL type. */
export type UserView = Readonly<{
  id: string;
  username: string;
  email: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Global position of the UserCreated event: the stable order of `users`. */
  createdPosition: Position;
}>;

const isUserEvent = (event: StoredEvent): event is StoredEvent<UserEvent> =>
  event.type === 'UserCreated' || event.type === 'UserUpdated';

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
      return { id: userId, username, email, version: event.streamVersion, createdAt: at, updatedAt: at, createdPosition: event.position };
    }
    case 'UserUpdated': {
      if (view === null) return null;
      const { username, email } = event.data;
      return {
        ...view,
        username: username ?? view.username,
        email: email ?? view.email,
        version: event.streamVersion,
        updatedAt: at,
      };
    }
  }
}

export const userViewFromStream = (events: readonly StoredEvent[]): UserView | null => events.reduce(evolveUserView, null);
