import { randomUUID } from 'node:crypto';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../graphql/context.js';
import { schema } from '../graphql/schema.js';
import { followEvents } from '../kernel/event-feed.js';
import { createRequestScope } from '../kernel/query-bus.js';
import { shareReads } from '../kernel/shared-reads.js';
import type { System } from '../system.js';
import { useHealth } from './health.js';

export type AppOptions = Readonly<{
  system: System;
  logger: Logger;
  readYourWritesTimeoutMs: number;
  /** Subscriptions re-read the store this often when no append signal arrives. */
  pollIntervalMs: number;
  graphiql: boolean;
  isReady: () => boolean;
  /** Aborted on shutdown: ends every live subscription with a clean completion. */
  shutdown: AbortSignal;
}>;

export type App = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the GraphQL app without a port, so tests can drive it through `app.fetch` or a real listener. */
export function createApp(options: AppOptions): App {
  const { system, logger } = options;
  // Every live subscription re-reads the log after each append; they share one read per wake-up.
  const feedReader = shareReads(system.store);
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // Yoga's own probe answers 200 regardless of state; ours at /health reports readiness and lag.
    healthCheckEndpoint: '/live',
    landingPage: false,
    // GraphiQL is bundled into the package, so it works on networks with no CDN.
    graphiql: options.graphiql ? { title: 'cqrs-graphql', subscriptionsProtocol: 'WS' } : false,
    renderGraphiQL,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error({ err: args[0] }, 'graphql-yoga error'),
    },
    maskedErrors: {
      maskError: (error, message, isDev) => {
        const masked = maskError(error, message, isDev);
        if (masked !== error) logger.error({ err: error }, 'unexpected error (masked for the client)');
        return boundOriginalError(masked);
      },
    },
    plugins: [useHealth({ projector: system.projector, isReady: options.isReady })],
    context: ({ request }): GraphQLContext => {
      const offered = request?.headers.get('x-request-id');
      const requestId = offered && REQUEST_ID.test(offered) ? offered : randomUUID();
      return {
        commandBus: system.commandBus,
        queryBus: system.queryBus,
        scope: createRequestScope(),
        store: system.store,
        followEvents: (feed) =>
          followEvents(feedReader, system.appended, {
            ...feed,
            pollIntervalMs: options.pollIntervalMs,
            signal: options.shutdown,
          }),
        projectionsReached: (position) => system.projector.waitFor(position, options.readYourWritesTimeoutMs),
        requestId,
        logger: logger.child({ requestId }),
      };
    },
  });
}

/**
 * Yoga's request parser attaches the JSON parser's message, which quotes the
 * request body: a megabyte of bad JSON would come back as a megabyte of error.
 * Keep the useful start of it (where the mistake is). Trimmed in place, so
 * yoga does not log a client's bad request as a server error.
 */
function boundOriginalError(error: Error): Error {
  const extensions = (error as Partial<GraphQLError>).extensions;
  const original = extensions?.['originalError'] as { message?: unknown } | undefined;
  if (typeof original?.message === 'string' && original.message.length > ORIGINAL_MESSAGE_LIMIT) {
    original.message = `${original.message.slice(0, ORIGINAL_MESSAGE_LIMIT)}…`;
  }
  return error;
}

const ORIGINAL_MESSAGE_LIMIT = 120;
