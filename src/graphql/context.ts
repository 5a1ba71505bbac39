import type { Logger } from 'pino';
import type { CommandBus } from '../kernel/command-bus.js';
import type { EventStore } from '../kernel/event-store.js';
import type { QueryBus, RequestScope } from '../kernel/query-bus.js';
import type { FollowOptions } from '../kernel/event-feed.js';
import type { StoredEvent } from '../kernel/messages.js';
import type { Position } from '../kernel/position.js';
import type { Viewer } from './viewer.js';

/** Everything a resolver may touch. Built once per operation (per subscription for streams). */
export type GraphQLContext = Readonly<{
  commandBus: CommandBus;
  queryBus: QueryBus;
  scope: RequestScope;
  store: EventStore;
  /**
   * Events after a position, then live (see kernel/event-feed.ts). Feeds end
   * cleanly when the server shuts down.
   */
  followEvents: (options: Pick<FollowOptions, 'after' | 'streamId' | 'types'>) => AsyncIterableIterator<StoredEvent>;
  /**
   * Where a reconnecting SSE client saw its last event (`Last-Event-ID`, as a
   * browser's EventSource sends it): a subscription resumes right after it,
   * overriding its own `after`. Null on every other request.
   */
  resumeAfter: string | null;
  /**
   * Read-your-writes: resolves true once every projection has processed the
   * event at `position`, false when the configured wait ran out, and false at
   * once when a halted projection stands before it.
   */
  projectionsReached: (position: Position) => Promise<boolean>;
  /** Who sent the operation (from its bearer token); rules read it through scope-auth. */
  viewer: Viewer;
  requestId: string;
  logger: Logger;
}>;
