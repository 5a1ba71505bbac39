import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../graphql/context.js';
import { visibilityKey, type Viewer } from '../graphql/viewer.js';
import { feedStart } from '../graphql/feed-start.js';
import { schemaOf } from '../graphql/schema.js';
import { followEvents } from '../kernel/event-feed.js';
import { assertNever, type StoredEvent } from '../kernel/messages.js';
import type { Position } from '../kernel/position.js';
import { createRequestScope } from '../kernel/query-bus.js';
import { shareReads } from '../kernel/shared-reads.js';
import type { System } from '../system.js';
import type { Authenticator } from './auth.js';
import { useGraphiQLPage } from './graphiql-page.js';
import { corsOptions, useVaryOrigin, type CorsOptions } from './cors.js';
import { useCSRFPrevention } from './csrf.js';
import { useErrorCodes } from './error-codes.js';
import { useHealth } from './health.js';
import { useMetrics, type Metrics } from './metrics.js';
import { requestIdOf, useRequestLogging } from './request-logging.js';
import { useRequestBodyLimit } from './request-body-limit.js';
import { useOperationLimits, type OperationLimits } from './operation-limits.js';
import { useQueryParams } from './query-params.js';
import { useSharedSubscriptionExecution } from './shared-subscription-execution.js';
import { createResumableSse, type StreamCursor } from './resumable-sse.js';
import { useBatchLimit } from './batching.js';
import { useMultipartSubscriptions } from './multipart-subscriptions.js';
import { usePersistedOperationsMode, type PersistedOperationsMode } from './persisted-operations.js';
import { usePositionedResponses, type CacheFilling } from './response-cache/plugin.js';

export type AppOptions = Readonly<{
  system: System;
  logger: Logger;
  /** Subscriptions re-read the store this often when no append signal arrives. */
  pollIntervalMs: number;
  graphiql: boolean;
  security: SecurityOptions;
  isReady: () => boolean;
  /** Aborted on shutdown: ends every live subscription with a clean completion. */
  shutdown: AbortSignal;
  /** Serves `/metrics` and counts subscriptions; absent when metrics are off. */
  metrics?: Metrics;
  transports: TransportOptions;
  /** Absent: the response cache is off (positions, the position header and ETags still work). */
  responseCache?: CacheFilling;
  /** How long a request with a position header waits for the projections. */
  readYourWritesTimeoutMs: number;
}>;

/** Apollo Client's transports besides single operations: persisted operations and batches. */
export type TransportOptions = Readonly<{
  persistedOperations: PersistedOperationsMode;
  /** Most operations in one batched request; 0: batching off. */
  maxBatchSize: number;
}>;

export type SecurityOptions = Readonly<{
  /** Off: `__schema`/`__type` are refused and error messages suggest no field names. */
  introspection: boolean;
  cors: CorsOptions;
  /** Larger request bodies are answered 413 (by yoga, before they are read). */
  maxBodyBytes: number;
  limits: OperationLimits;
  authenticator: Authenticator;
}>;

/**
 * What the transports hand to yoga besides the request: graphql-ws
 * authenticates once at connection time and passes the viewer along.
 */
export type ServerContext = Record<string, unknown> & { viewer?: Viewer };

export type App = YogaServerInstance<ServerContext, GraphQLContext>;

export { CSRF_HEADER } from './csrf.js';

/** Builds the GraphQL app without a port, so tests can drive it through `app.fetch` or a real listener. */
export function createApp(options: AppOptions): App {
  const { system, logger, security, transports } = options;
  // Every live subscription re-reads the log after each append; they share one read per wake-up.
  const feedReader = shareReads(system.store);
  const resumableSse = createResumableSse();
  const schema = schemaOf(system.modules);
  // Once per request: the response cache needs the viewer before the context is built (a hit builds none).
  const viewers = new WeakMap<Request, Promise<Viewer>>();
  const viewerOf = (request: Request) => {
    let viewer = viewers.get(request);
    if (!viewer) viewers.set(request, (viewer = authenticate(security.authenticator, request.headers.get('authorization'), logger)));
    return viewer;
  };
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // Yoga's own probe answers 200 regardless of state; ours at /health reports readiness and lag.
    healthCheckEndpoint: '/live',
    landingPage: false,
    // Served by useGraphiQLPage instead: rendered and compressed once, with an ETag.
    graphiql: false,
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
    // Enforced by useRequestBodyLimit instead, without a stream pipeline per request.
    maxRequestBodySize: false,
    batching: transports.maxBatchSize > 0 && { limit: transports.maxBatchSize },
    cors: corsOptions(security.cors),
    plugins: [
      useRequestLogging(logger),
      ...(options.graphiql ? [useGraphiQLPage({ endpoint: '/graphql' })] : []),
      useHealth({ projector: system.projector, isReady: options.isReady }),
      ...(options.metrics ? [useMetrics({ metrics: options.metrics })] : []),
      useVaryOrigin(security.cors),
      useErrorCodes(),
      // Requests a browser sends cross-site without a preflight: see csrf.ts for which need the header.
      useCSRFPrevention(),
      useQueryParams(),
      ...useOperationLimits(security.limits),
      useBatchLimit(transports.maxBatchSize),
      usePersistedOperationsMode(transports.persistedOperations),
      // After the plugins that settle the document (persisted operations): the cache keys on it.
      usePositionedResponses({
        projector: system.projector,
        positions: system.store,
        waitTimeoutMs: options.readYourWritesTimeoutMs,
        viewerOf,
        ...(options.responseCache ? { cache: options.responseCache } : {}),
        // node/nodes: every registered node loader must record what it reads (recordRead), as the users module's does.
        cacheableFields: ['node', 'nodes', ...system.modules.flatMap((module) => module.responseCache?.queryFields ?? [])],
      }),
      resumableSse.plugin,
      // After every plugin that picks a result processor: it ends the subscriptions none could serve.
      useMultipartSubscriptions(),
      ...(security.introspection ? [] : [useDisableIntrospection(), blockFieldSuggestionsPlugin() as Plugin]),
      useSharedSubscriptionExecution<GraphQLContext>({ sharingKey: (context) => visibilityKey(context.viewer) }),
      // Last, so it wraps whichever request parser the plugins before it selected.
      useRequestBodyLimit(security.maxBodyBytes),
    ],
    context: async ({ request, viewer: connectionViewer }): Promise<GraphQLContext> => {
      const requestId = requestIdOf(request);
      const viewer = connectionViewer ?? (request ? await viewerOf(request) : await authenticate(security.authenticator, undefined, logger));
      const sseCursor = resumableSse.cursorOf(request);
      // Most requests never log from a resolver; the child logger is built on first use.
      let requestLogger: Logger | undefined;
      return {
        viewer,
        commandBus: system.commandBus,
        queryBus: system.queryBus,
        scope: createRequestScope(),
        positions: system.store,
        followEvents: async ({ after, ...feed }) => {
          // A reconnecting EventSource's last id is later than the `after` it first asked for.
          const from = await feedStart(sseCursor?.resumeAfter ?? after, system.store);
          const events = followEvents(feedReader, system.appended, {
            ...feed,
            after: from,
            pollIntervalMs: options.pollIntervalMs,
            signal: options.shutdown,
            // A feed sees no more than its token may: it completes when the token expires, and the client reconnects with a fresh one.
            ...(viewer.type === 'user' && viewer.expiresAt !== null ? { endsAt: viewer.expiresAt } : {}),
          });
          return sseCursor ? recordingPositions(events, sseCursor, system.store.formatPosition) : events;
        },
        requestId,
        get logger() {
          return (requestLogger ??= logger.child({ requestId }));
        },
      };
    },
  });
}

/** Tells an SSE response which event each result comes from, for its `id:` lines. */
function recordingPositions(
  events: AsyncIterableIterator<StoredEvent>,
  cursor: StreamCursor,
  format: (position: Position) => string,
): AsyncIterableIterator<StoredEvent> {
  return {
    next: async () => {
      const step = await events.next();
      if (!step.done) cursor.lastDelivered = format(step.value.position);
      return step;
    },
    // A client leaving ends the feed at once, not at its next event.
    return: (value?: unknown) => events.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A bad token fails the whole request with 401, whatever it asked for: it
 * never downgrades to anonymous. A JWKS outage is a 503: nobody can be told
 * apart from anyone else until it is back.
 */
async function authenticate(authenticator: Authenticator, authorization: string | null | undefined, logger: Logger): Promise<Viewer> {
  const outcome = await authenticator.viewerFor(authorization);
  if (outcome.ok) return outcome.value;
  const { error } = outcome;
  switch (error.type) {
    case 'InvalidToken':
      throw createGraphQLError(error.message, {
        extensions: {
          code: 'UNAUTHENTICATED',
          http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
        },
      });
    case 'KeysUnavailable':
      logger.error({ err: error.cause }, 'cannot fetch the JWKS to verify a token');
      throw createGraphQLError(error.message, { extensions: { code: 'AUTH_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': '5' } } } });
    default:
      return assertNever(error, 'auth failure');
  }
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
