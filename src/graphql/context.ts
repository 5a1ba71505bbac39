import type { Logger } from 'pino';
import type { CommandBus } from '../kernel/command-bus.js';
import type { EventStore } from '../kernel/event-store.js';
import type { QueryBus, RequestScope } from '../kernel/query-bus.js';
import type { WakeSignal } from '../kernel/wake-signal.js';

/** Everything a resolver may touch. Built once per operation (per subscription for streams). */
export type GraphQLContext = Readonly<{
  commandBus: CommandBus;
  queryBus: QueryBus;
  scope: RequestScope;
  store: EventStore;
  /** Wakes subscription feeds after appends. */
  appended: WakeSignal;
  /** Aborted when the server shuts down; live subscriptions complete on it. */
  shutdown: AbortSignal;
  /**
   * Read-your-writes: resolves true once every projection has processed the
   * event at `position`, false when the configured wait ran out.
   */
  projectionsReached: (position: number) => Promise<boolean>;
  requestId: string;
  logger: Logger;
}>;
