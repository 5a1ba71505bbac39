import type { GraphQLContext } from '../../graphql/context.js';
import type { StoredEvent } from '../../kernel/messages.js';
import { createRequestScope } from '../../kernel/query-bus.js';
import { getUser } from '../read-model/queries.js';
import { userViewFromStream, type UserView } from '../user-view.js';

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
  return memo(latestByEvent, event, async () => {
    if (await ctx.projectionsReached(event.position)) {
      // A scope of its own: a subscription's context lives for hours, and its loader would remember users forever.
      const user = await ctx.queryBus.execute(getUser(event.streamId), createRequestScope());
      if (user && user.version >= event.streamVersion) return user;
    }
    return userFromStream(ctx, event.streamId, Number.POSITIVE_INFINITY);
  });
}

/** The user exactly as this event left it: the stream folded up to the event's version. */
export function userAsLeftBy(event: StoredEvent, ctx: GraphQLContext): Promise<UserView> {
  return memo(leftByEvent, event, () => userFromStream(ctx, event.streamId, event.streamVersion));
}

/**
 * A user read from the event store, not the read model: the stream folded up
 * to `upToVersion`. For answers the read model cannot give (yet): a stalled
 * projection, or the state at one event.
 */
export async function userFromStream(ctx: Pick<GraphQLContext, 'store'>, streamId: string, upToVersion: number): Promise<UserView> {
  const { events } = await ctx.store.readStream(streamId);
  const user = userViewFromStream(events.filter((stored) => stored.streamVersion <= upToVersion));
  if (!user) throw new Error(`User stream ${streamId} folds to no user at version ${upToVersion}`);
  return user;
}
