import type { GraphQLContext } from '../../graphql/context.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { createRequestScope } from '../../kernel/query-bus.js';
import { getUserAtVersion } from '../read-model/queries.js';
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
  return memo(leftByEvent, event, () =>
    ctx.queryBus.execute(getUserAtVersion(userIdOf(event), event.streamVersion, 'exactly'), createRequestScope()),
  );
}
