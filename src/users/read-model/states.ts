import type { EventLog } from '../../kernel/event-store.js';
import type { QueryBus, TypedQuery } from '../../kernel/query-bus.js';
import { streamIdOf } from '../../kernel/stream-id.js';
import { USER_STREAMS } from '../user.js';
import { evolveUserView, type UserView } from '../user-view.js';

/**
 * The user as each of these versions left it, from one read of the stream:
 * a page of history shows up to 100 states, which one fold per event would
 * read the stream 100 times for. The fold is the one the projection and
 * `GetUserAtVersion` use, so the states agree with them.
 */
export type GetUserStates = TypedQuery<'GetUserStates', { userId: string; versions: readonly number[] }, ReadonlyMap<number, UserView>>;

export const getUserStates = (userId: string, versions: readonly number[]): GetUserStates => ({
  type: 'GetUserStates',
  data: { userId, versions },
});

export function registerUserStatesQuery({ queryBus, eventLog }: Readonly<{ queryBus: QueryBus; eventLog: Pick<EventLog, 'readStream'> }>): void {
  queryBus.register<GetUserStates>('GetUserStates', async ({ data: { userId, versions } }) => {
    const wanted = new Set(versions);
    const highest = Math.max(...versions);
    const { events } = await eventLog.readStream(streamIdOf(USER_STREAMS, userId));
    const states = new Map<number, UserView>();
    let view: UserView | null = null;
    for (const event of events) {
      if (event.streamVersion > highest) break;
      view = evolveUserView(view, event);
      if (!wanted.has(event.streamVersion)) continue;
      if (view === null) throw new Error(`User stream of ${userId} folds to no user at version ${event.streamVersion}`);
      states.set(event.streamVersion, view);
    }
    return states;
  });
}
