import { GraphQLError } from 'graphql';
import { readEventPage } from '../kernel/event-page.js';
import type { StoredEvent } from '../kernel/messages.js';
import { streamIdOf, type StreamCategory } from '../kernel/stream-id.js';
import { builder } from './builder.js';
import { badUserInput } from './errors.js';
import { parseGlobalId } from './global-id.js';

/**
 * The audit feed: the whole event log as one connection, for admins. This
 * file knows no module. A module makes its events appear by having their
 * GraphQL types implement `LoggedEventInterface` and registering their event
 * types; a module whose entities own streams registers how a global id of
 * theirs names a stream, so the feed can be narrowed to one of them. Events
 * of types no module registered are not in the feed: they have no GraphQL
 * type to be shown as.
 */

const loggedTypes = new Set<string>();

/** The stored event types a module shows in the feed; each must be the name of a GraphQL type that implements `LoggedEvent`. */
export function registerLoggedEventTypes(eventTypes: readonly string[]): void {
  for (const type of eventTypes) {
    if (loggedTypes.has(type)) throw new Error(`Logged event type ${type} is registered twice`);
    loggedTypes.add(type);
  }
}

type StreamOwner = Readonly<{ category: StreamCategory; ownsBareIds: boolean }>;
const owners = new Map<string, StreamOwner>();

/**
 * Objects of `typename` each own the stream `<category>-<id>`. At most one
 * type may own bare (not global) ids: the ids clients stored before global ids.
 */
export function registerEventStreamOwner(typename: string, category: StreamCategory, options: Readonly<{ ownsBareIds?: boolean }> = {}): void {
  if (owners.has(typename)) throw new Error(`Event stream owner ${typename} is registered twice`);
  const ownsBareIds = options.ownsBareIds ?? false;
  if (ownsBareIds && [...owners.values()].some((owner) => owner.ownsBareIds)) throw new Error('Only one type may own bare ids');
  owners.set(typename, { category, ownsBareIds });
}

/** The stream an id argument names, or why it names none. */
function streamOfArgument(text: string): string {
  const global = parseGlobalId(text);
  if (global) {
    const owner = owners.get(global.typename);
    if (!owner) throw badUserInput(`"userId" is the global id of a ${global.typename}, which has no events`, 'userId');
    return streamIdOf(owner.category, global.id);
  }
  const bare = [...owners.values()].find((owner) => owner.ownsBareIds);
  if (!bare) throw badUserInput('"userId" is not a global id', 'userId');
  return streamIdOf(bare.category, text);
}

export const LoggedEventInterface = builder.interfaceRef<StoredEvent>('LoggedEvent').implement({
  description: 'An event as the log stores it, of any kind: what the `events` audit feed lists. Every event type implements it.',
  resolveType: (event) => event.type,
  fields: (t) => ({
    position: t.string({
      description: 'Global position in the event log: the cursor of its edge; pass it as `after` to resume after this event.',
      resolve: (event, _args, ctx) => ctx.positions.formatPosition(event.position),
    }),
    version: t.int({ description: 'The version of its stream (its entity) this event produced.', resolve: (event) => event.streamVersion }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => event.metadata.occurredAt }),
    correlationId: t.string({
      nullable: true,
      description: 'The id of the request that wrote it (`x-request-id`), for finding its log lines.',
      resolve: (event) => event.metadata.correlationId ?? null,
    }),
  }),
});

const forbidden = (message: string) => new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

builder.queryField('events', (t) =>
  t.connection(
    {
      type: LoggedEventInterface,
      description:
        'The audit feed, for admins: every event in the log, oldest first. Each cursor is the event’s `position`, as `userEvents(after:)` takes it. `first`/`last` default to 20 and may be at most 100.',
      args: {
        types: t.arg.stringList({ description: 'Only events of these types (`UserCreated`, …): the names of the types that implement `LoggedEvent`.' }),
        userId: t.arg.id({
          description:
            'Only this user’s events: a global id (`User:…`), or a user id stored before global ids existed. The global id of any other object with events selects its events.',
        }),
      },
      authScopes: { admin: true },
      unauthorizedResolver: (_root, _args, ctx) => {
        throw forbidden(
          ctx.viewer.type === 'anonymous'
            ? 'The events feed is for admins: send an admin’s bearer token (Authorization: Bearer <token>).'
            : 'The events feed is for admins; this token has no admin role.',
        );
      },
      resolve: async (_root, { types, userId, ...args }, ctx) => {
        const unknown = types?.find((type) => !loggedTypes.has(type));
        if (unknown !== undefined) throw badUserInput(`"types" names ${JSON.stringify(unknown)}, which is no event type of this API`, 'types');
        const filter = {
          types: types ?? [...loggedTypes],
          ...(userId == null ? {} : { streamId: streamOfArgument(String(userId)) }),
        };
        const page = await ctx.queryBus.execute(readEventPage(args, filter), ctx.scope);
        if (!page.ok) throw badUserInput(page.error.message, page.error.argument);
        return page.value;
      },
    },
    { name: 'EventConnection' },
    { name: 'EventEdge' },
  ),
);
