import type { Logger } from 'pino';
import type { CommandBus } from '../kernel/command-bus.js';
import type { PositionCodec } from '../kernel/event-store.js';
import type { QueryBus, RequestScope } from '../kernel/query-bus.js';
import type { FollowOptions } from '../kernel/event-feed.js';
import type { StoredEvent } from '../kernel/messages.js';
import type { Viewer } from './viewer.js';

/** Everything a resolver may touch. Built once per operation (per subscription for streams). */
export type GraphQLContext = Readonly<{
  commandBus: CommandBus;
  queryBus: QueryBus;
  scope: RequestScope;
  /** Positions as clients see them. */
  positions: Pick<PositionCodec, 'formatPosition'>;
  /**
   * Events after a client's `after` (null: from now on), then live (see
   * kernel/event-feed.ts); rejects with BAD_USER_INPUT when `after` names no
   * event of this log. A reconnecting EventSource resumes after the last
   * event it saw instead. Feeds end cleanly when the server shuts down.
   */
  followEvents: (options: Readonly<{ after: string | null }> & Pick<FollowOptions, 'streamId' | 'types'>) => Promise<AsyncIterableIterator<StoredEvent>>;
  /** Who sent the operation (from its bearer token); rules read it through scope-auth. */
  viewer: Viewer;
  requestId: string;
  logger: Logger;
}>;
