import { builder } from '../../graphql/builder.js';
import { badUserInput } from '../../graphql/errors.js';
import { readEventPage } from '../../kernel/event-page.js';
import { streamIdOf } from '../../kernel/stream-id.js';
import { USER_STREAMS, userEventTypes } from '../user.js';
import type { UserView } from '../user-view.js';
import { shareStatesOfPage } from './event-users.js';
import type { defineUserEventsSubscription, StoredUserEvent } from './events.js';
import { UserType } from './user-type.js';

type UserEventRef = ReturnType<typeof defineUserEventsSubscription>;

/**
 * `User.history`: the user's events as a connection, oldest first. A cursor
 * is the event's `position`, the very string `userEvents(after:)` takes: an
 * app pages to the end, then subscribes with `after: pageInfo.endCursor`
 * and misses nothing, sees nothing twice. Readable by whoever may read the
 * user; emails inside are masked as on `User` and `userEvents`.
 */
export function defineUserHistory(UserEventInterface: UserEventRef): void {
  builder.objectField(UserType, 'history', (t) =>
    t.connection(
      {
        type: UserEventInterface,
        description:
          'The user’s events, oldest first, each with the user as it left them (`state`). Each cursor is the event’s `position`: after the last page, subscribe to `userEvents(userId:, after: pageInfo.endCursor)` to follow on with no gap and no duplicate. `first`/`last` default to 20 and may be at most 100.',
        resolve: async (user: UserView, args, ctx) => {
          const page = await ctx.queryBus.execute(
            readEventPage(args, { streamId: streamIdOf(USER_STREAMS, user.id), types: userEventTypes }),
            ctx.scope,
          );
          if (!page.ok) throw badUserInput(page.error.message, page.error.argument);
          shareStatesOfPage(
            page.value.edges.map((edge) => edge.node),
            ctx,
          );
          return page.value as { edges: { cursor: string; node: StoredUserEvent }[]; pageInfo: typeof page.value.pageInfo };
        },
      },
      { name: 'UserHistoryConnection' },
      { name: 'UserHistoryEdge' },
    ),
  );
}
