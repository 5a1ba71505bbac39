import type { GraphQLContext } from '../../graphql/context.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { createRequestScope } from '../../kernel/query-bus.js';
import { getUserAtVersion } from '../read-model/queries.js';
import { getUserStates } from '../read-model/states.js';
import { userIdOf } from '../user.js';
import type { UserView } from '../user-view.js';

/*
 * The users an event's `user` and `state` fields resolve to. Both are
 * memoised on the event object: subscribers that read an event together get
 * the same object (see kernel/shared-reads.ts), so a thousand subscribers, on
 * any selection, cost one read per event, not one each. Events are immutable,
 * so a memo can never be stale for `state`; for `user` it is at least as new
 * as the event, which is all the field promises.
 */

const latestByEvent = new WeakMap<StoredEvent, Promise<UserView>>();
const leftByEvent = new WeakMap<StoredEvent, Promise<UserView>>();

function memo(cache: WeakMap<StoredEvent, Promise<UserView>>, event: StoredEvent, load: () => Promise<UserView>): Promise<UserView> {
  let user = cache.get(event);
  if (!user) {
    cache.set(event, (user = load()));
    // A failed read is retried by the next subscriber that asks, not remembered.
    user.catch(() => cache.delete(event));
  }
  return user;
}

/**
 * The read model's user once the projections have passed the event, as a
 * mutation's read-your-writes does. When they do not in time (a stalled or
 * halted projection), the user's stream folded to its end: newer still.
 */
export function userAsNewAs(event: StoredEvent, ctx: GraphQLContext): Promise<UserView> {
  return memo(latestByEvent, event, () =>
    // A scope of its own: a subscription's context lives for hours, and its loader would remember users forever.
    ctx.queryBus.execute(getUserAtVersion(userIdOf(event), event.streamVersion, 'atLeast'), createRequestScope(), { atLeast: event.position }),
  );
}

/** The user exactly as this event left it: the stream folded up to the event's version. */
export function userAsLeftBy(event: StoredEvent, ctx: GraphQLContext): Promise<UserView> {
  return memo(leftByEvent, event, () => {
    const ofPage = pageStates.get(event);
    if (ofPage) return ofPage().then((states) => states.get(event.streamVersion)!);
    return ctx.queryBus.execute(getUserAtVersion(userIdOf(event), event.streamVersion, 'exactly'), createRequestScope());
  });
}

const pageStates = new WeakMap<StoredEvent, () => Promise<ReadonlyMap<number, UserView>>>();

/**
 * A page of one user's history: the states of all its events come from one
 * fold of the stream, read the first time any of them is asked for (never,
 * when the client selects no `state`).
 */
export function shareStatesOfPage(events: readonly StoredEvent[], ctx: GraphQLContext): void {
  const first = events[0];
  if (!first) return;
  let states: Promise<ReadonlyMap<number, UserView>> | undefined;
  const load = () => {
    if (!states) {
      const loading = ctx.queryBus.execute(getUserStates(userIdOf(first), events.map((event) => event.streamVersion)), createRequestScope());
      // A failed read is tried again by the next field that asks, as for one event.
      loading.catch(() => {
        if (states === loading) states = undefined;
      });
      states = loading;
    }
    return states;
  };
  for (const event of events) pageStates.set(event, load);
}
