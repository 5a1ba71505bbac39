import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { openSystem, type System, type SystemOptions } from '../system.js';
import { createApp, type App, type AppOptions } from './app.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import { bindPort, serve } from './bind-port.js';
import { storageOptions, type Config } from './config.js';
import { createMetrics, type Metrics } from './metrics.js';
import { persistedOperationsMode } from './persisted-operations.js';
import { attachWebSocketServer } from './websocket.js';
import { cacheInvalidation } from './response-cache/invalidation.js';
import { createFrontDoor } from './response-cache/front-door.js';
import { createTaggedCache } from './response-cache/tagged-cache.js';

export type RunningServer = Readonly<{
  url: string;
  port: number;
  app: App;
  system: System;
  /** Graceful: stop accepting, finish in-flight requests, close subscriptions, close the stores. */
  close: () => Promise<void>;
  /** This server's registry, readable after `close()` too; absent with METRICS=false. */
  metrics?: Metrics;
}>;

export type StartOptions = Readonly<{
  logger: Logger;
  /** The features to serve (src/modules.ts lists the server's own). */
  modules: SystemOptions['modules'];
  onReadModelQuery?: () => void;
  /** Test seam: see SystemOptions.extraProjections. */
  extraProjections?: SystemOptions['extraProjections'];
  /** Test seam: see SystemOptions.buildBatchSize. */
  buildBatchSize?: number;
}>;

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  // Bound first: a taken port is refused before the store is opened or a projection runs.
  const httpServer = await bindPort(config.PORT, config.HOST);
  try {
    return await startOn(httpServer, config, options);
  } catch (error) {
    httpServer.close();
    httpServer.closeAllConnections();
    throw error;
  }
}

async function startOn(httpServer: Server, config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const metrics = config.METRICS ? createMetrics() : undefined;
  const responseCache = config.RESPONSE_CACHE ? createTaggedCache({ maxBytes: config.RESPONSE_CACHE_MAX_BYTES }) : undefined;
  if (responseCache) metrics?.observeResponseCache(responseCache);
  const system = await openSystem({
    storage: storageOptions(config),
    modules: options.modules,
    pollIntervalMs: config.PROJECTION_POLL_INTERVAL_MS,
    readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS,
    projectionMaxRetries: config.PROJECTION_MAX_RETRIES,
    snapshotEvery: config.SNAPSHOT_EVERY,
    idempotencyRetentionMs: config.IDEMPOTENCY_RETENTION_SECONDS * 1000,
    logger,
    ...(options.onReadModelQuery ? { onReadModelQuery: options.onReadModelQuery } : {}),
    ...(metrics ? { instrumentation: metrics } : {}),
    ...(options.extraProjections ? { extraProjections: options.extraProjections } : {}),
    ...(options.buildBatchSize ? { buildBatchSize: options.buildBatchSize } : {}),
    ...(responseCache
      ? {
          projectionListener: (store) =>
            cacheInvalidation(responseCache, options.modules, store, (error) =>
              logger.warn({ err: error }, 'could not read what another instance projected; response cache emptied'),
            ),
        }
      : {}),
  });
  metrics?.observeProjector(system.projector);
  metrics?.observeIdempotencyRecords(system.store);
  const authenticator = createAuthenticator(config);
  if (authenticator.enabled) logger.info('authentication on: mutations need a bearer token');
  else logger.warn('authentication off: the API is open to anyone who can reach it (set AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL)');
  const frontDoor = responseCache
    ? createFrontDoor({
        cache: responseCache,
        projector: system.projector,
        positions: system.store,
        authenticator,
        logger,
        maxBodyBytes: config.MAX_BODY_BYTES,
        endpoint: '/graphql',
      })
    : undefined;
  const shutdown = new AbortController();
  const persistedOperations = persistedOperationsMode(config);
  let ready = false;
  const app = createApp(
    appOptionsFor(config, {
      system,
      logger,
      authenticator,
      isReady: () => ready,
      shutdown: shutdown.signal,
      ...(metrics ? { metrics } : {}),
      ...(frontDoor ? { responseCache: frontDoor.filling } : {}),
    }),
  );
  const ws = attachWebSocketServer(httpServer, app, {
    authenticator,
    maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxMessageBytes: config.MAX_BODY_BYTES,
    logger,
    persistedOperations,
    maxBufferedBytes: config.SUBSCRIPTION_MAX_BUFFERED_BYTES,
    stallTimeoutMs: config.SUBSCRIPTION_STALL_TIMEOUT_MS,
    formatPosition: (position) => system.store.formatPosition(position),
    ...(metrics ? { fanOutMetrics: metrics.fanOut } : {}),
  });

  await system.projector.start();
  const behind = (await system.projector.status()).filter((projection) => projection.lag > 0);
  if (behind.length > 0) {
    // Served meanwhile; /health shows the lag shrinking, and mutations still read their own writes.
    logger.info({ projections: behind.map(({ name, position, lag }) => ({ name, position, lag })) }, 'projections catching up');
  }
  // Response-cache hits are answered in front of yoga (src/server/response-cache/front-door.ts).
  serve(httpServer, frontDoor ? frontDoor.listener(app) : app);
  ready = true;
  const { port } = httpServer.address() as AddressInfo;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  const url = `http://${host}:${port}/graphql`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      const drained = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      shutdown.abort(); // live subscriptions (WS and SSE) complete now
      await ws.close(Math.min(2000, config.SHUTDOWN_TIMEOUT_MS));
      httpServer.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn('shutdown timeout: cutting remaining connections');
        httpServer.closeAllConnections();
      }, config.SHUTDOWN_TIMEOUT_MS);
      await drained;
      clearTimeout(timer);
      await system.close();
    })());

  return { url, port, app, system, close, ...(metrics ? { metrics } : {}) };
}

/** Everything the app takes that the configuration decides; the server and the in-process test tier build it the same way. */
export function appOptionsFor(
  config: Config,
  parts: Pick<AppOptions, 'system' | 'logger' | 'isReady' | 'shutdown' | 'metrics' | 'responseCache'> & Readonly<{ authenticator: Authenticator }>,
): AppOptions {
  const { authenticator, ...rest } = parts;
  return {
    ...rest,
    pollIntervalMs: config.PROJECTION_POLL_INTERVAL_MS,
    readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS,
    graphiql: config.GRAPHIQL,
    security: {
      introspection: config.INTROSPECTION,
      cors: {
        origins: config.CORS_ORIGINS ?? [],
        allowedHeaders: config.CORS_ALLOWED_HEADERS,
        exposedHeaders: config.CORS_EXPOSED_HEADERS,
        maxAgeSeconds: config.CORS_MAX_AGE_SECONDS,
      },
      maxBodyBytes: config.MAX_BODY_BYTES,
      limits: {
        maxDepth: config.MAX_DEPTH,
        maxAliases: config.MAX_ALIASES,
        maxCost: config.MAX_COST,
        maxTokens: config.MAX_TOKENS,
        maxDirectives: config.MAX_DIRECTIVES,
      },
      authenticator,
    },
    transports: { persistedOperations: persistedOperationsMode(config), maxBatchSize: config.MAX_BATCH_SIZE },
  };
}
