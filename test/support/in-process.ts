import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Logger } from 'pino';
import type { AnyModule } from '../../src/module.js';
import { modules as serverModules } from '../../src/modules.js';
import { createApp, type App } from '../../src/server/app.js';
import { appOptionsFor } from '../../src/server/server.js';
import { createAuthenticator } from '../../src/server/auth.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';
import { persistedOperationsMode } from '../../src/server/persisted-operations.js';
import { openSystem, type System } from '../../src/system.js';
import type { GraphQLErrorBody, Response } from './graphql.js';

export type InProcessOptions = Readonly<{
  /** Settings by their README names; authentication stays off unless these turn it on. */
  env?: Record<string, string>;
  /** The features to serve: src/modules.ts by default. */
  modules?: readonly AnyModule[];
  /** Where the app logs, for tests that read its log lines; by default one at LOG_LEVEL (silent). */
  logger?: Logger;
}>;

export type InProcessApp = Readonly<{
  app: App;
  /** yoga's own `fetch`: a Request in, a Response out, with no socket between. */
  fetch: App['fetch'];
  /** Where requests are addressed; only its path matters to the app. */
  url: string;
  /** POSTs a GraphQL operation as JSON: `gql` of test/support/server.ts without the URL. */
  gql: <T = unknown>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: { data?: T; errors?: GraphQLErrorBody[] } }>;
  /** A generated (typed) document: `execute` of test/support/graphql.ts without the URL. */
  execute: <TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
    headers?: Record<string, string>,
  ) => Promise<Response<TResult>>;
  /** Like `execute`, but fails the test unless the response has data and no errors. */
  executeOk: <TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
  ) => Promise<TResult>;
  system: System;
  config: Config;
  /** Read-model queries made so far (to check DataLoader batching). */
  readModelQueries: () => number;
  /** Ends live subscriptions, stops the projector and drops the store. */
  close: () => Promise<void>;
}>;

/**
 * The server's app over the in-memory store, driven through `app.fetch`: no
 * port, no files, no child process. Configured by `loadConfig`, so every
 * default is the real server's; only the timeouts are shortened, since
 * nothing here waits on a disk or a network.
 */
export async function createInProcessApp(options: InProcessOptions = {}): Promise<InProcessApp> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PROJECTION_POLL_INTERVAL_MS: '50',
    READ_YOUR_WRITES_TIMEOUT_MS: '1000',
    ...options.env,
  });
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = config.METRICS ? createMetrics() : undefined;
  let queries = 0;
  const system = await openSystem({
    storage: { kind: 'memory' },
    modules: options.modules ?? serverModules,
    pollIntervalMs: config.PROJECTION_POLL_INTERVAL_MS,
    readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS,
    projectionMaxRetries: config.PROJECTION_MAX_RETRIES,
    snapshotEvery: config.SNAPSHOT_EVERY,
    idempotencyRetentionMs: config.IDEMPOTENCY_RETENTION_SECONDS * 1000,
    logger,
    onReadModelQuery: () => (queries += 1),
    ...(metrics ? { instrumentation: metrics } : {}),
  });
  metrics?.observeProjector(system.projector);
  metrics?.observeIdempotencyRecords(system.store);
  const shutdown = new AbortController();
  let ready = false;
  const app = createApp(
    appOptionsFor(config, {
      system,
      logger,
      authenticator: createAuthenticator(config),
      isReady: () => ready,
      shutdown: shutdown.signal,
      ...(metrics ? { metrics } : {}),
    }),
  );
  await system.projector.start();
  ready = true;

  const url = 'http://in-process.test/graphql';
  const gql: InProcessApp['gql'] = async (query, variables, headers = {}) => {
    const response = await app.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as never };
  };
  async function execute<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
    headers?: Record<string, string>,
  ): Promise<Response<TResult>> {
    const { status, body } = await gql<TResult>(print(document), variables, headers);
    return { status, ...body };
  }
  const executeOk: InProcessApp['executeOk'] = async (document, variables) => {
    const response = await execute(document, variables);
    if (response.status !== 200 || response.errors?.length || response.data == null) {
      throw new Error(`GraphQL request failed (HTTP ${response.status}): ${JSON.stringify(response.errors ?? response)}`);
    }
    return response.data;
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      shutdown.abort(); // live subscriptions complete now, as on the real server's shutdown
      await system.close();
    })());

  return { app, fetch: app.fetch, url, gql, execute, executeOk, system, config, readModelQueries: () => queries, close };
}
