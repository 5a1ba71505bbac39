import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { Context } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { Viewer } from '../graphql/viewer.js';
import type { App } from './app.js';
import type { Authenticator } from './auth.js';
import type { Position } from '../kernel/position.js';
import { createCoalescedWrites } from './coalesced-writes.js';
import type { FanOutMetrics } from './fanout-metrics.js';
import { useGraphQLWsServer } from './graphql-ws-adapter.js';
import { websocketDocument, type PersistedOperationsMode } from './persisted-operations.js';
import { createSubscriptionFanOut, type WebSocketDelivery } from './subscription-fanout.js';

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

export type WebSocketOptions = Readonly<{
  authenticator: Authenticator;
  /** Operations one connection may run at once; one more is answered with an error. */
  maxSubscriptionsPerConnection: number;
  /** Largest message a client may send; a larger one closes the socket with 1009. */
  maxMessageBytes: number;
  logger: Logger;
  /** Trusted-documents mode holds over websockets too. */
  persistedOperations: PersistedOperationsMode;
  /** A subscriber whose socket holds more than this unsent is cut off with RESUME_AFTER (subscription-fanout.ts). */
  maxBufferedBytes: number;
  /** A subscriber that leaves a ping sent after its events unanswered this long is cut off the same way; 0: never. */
  stallTimeoutMs: number;
  /** Positions as clients see them, for the `after` a cut-off subscriber resumes from. */
  formatPosition: (position: Position) => string;
  fanOutMetrics?: FanOutMetrics;
}>;

/**
 * graphql-ws on the same path as HTTP. Operations run through yoga's
 * envelop, so parsing, validation, context, masking and every plugin are the
 * same as over HTTP (the recipe from yoga's graphql-ws docs).
 *
 * Authentication happens once, at connection_init: `connectionParams.authorization`
 * carries the same "Bearer <token>" as the HTTP header. A bad token closes the
 * socket with 4403 (graphql-ws's Forbidden); no token means anonymous.
 */
export function attachWebSocketServer(httpServer: Server, app: App, options: WebSocketOptions) {
  const wsServer = new WebSocketServer({ server: httpServer, path: app.graphqlEndpoint, maxPayload: options.maxMessageBytes });
  const connections = new Set<{ subscriptions: Record<string, unknown> }>();
  const viewers = new WeakMap<Context, Viewer>();
  const writes = createCoalescedWrites();
  const fanOut = createSubscriptionFanOut({
    maxBufferedBytes: options.maxBufferedBytes,
    stallTimeoutMs: options.stallTimeoutMs,
    formatPosition: options.formatPosition,
    writes,
    logger: options.logger,
    ...(options.fanOutMetrics ? { metrics: options.fanOutMetrics } : {}),
  });
  options.fanOutMetrics?.observeLargestBacklog(fanOut.largestBacklog);
  const disposable = useGraphQLWsServer(
    {
      onConnect: async (ctx) => {
        const outcome = await options.authenticator.viewerFor(ctx.connectionParams?.['authorization']);
        if (!outcome.ok) {
          const { error } = outcome;
          if (error.type === 'KeysUnavailable') {
            options.logger.error({ err: error.cause }, 'cannot fetch the JWKS to verify a token');
            // 1013 "Try Again Later" instead of graphql-ws's 4403: the client did nothing wrong.
            ctx.extra.socket.close(1013, 'Try again later');
          } else {
            options.logger.debug({ reason: error.message }, 'websocket connection refused: invalid token');
          }
          return false;
        }
        viewers.set(ctx, outcome.value);
        connections.add(ctx);
        return true;
      },
      onClose: (ctx) => {
        connections.delete(ctx);
      },
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      onSubscribe: async (ctx, id, payload) => {
        const refusal = refuse(ctx, viewers.get(ctx), options.maxSubscriptionsPerConnection);
        if (refusal) return [refusal];
        // Filled in once getEnveloped has made the operation's execute; read only when it subscribes.
        const delivery = { fanOut, connection: ctx, id, execute: undefined as unknown as WebSocketDelivery['execute'] };
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          viewer: viewers.get(ctx),
          webSocketDelivery: delivery,
        });
        delivery.execute = execute;
        const resolved = websocketDocument(options.persistedOperations, payload);
        if (resolved.type === 'refused') return [resolved.error];
        let document;
        try {
          document = parse(resolved.text);
        } catch (error) {
          return [error as never];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
      },
    },
    wsServer,
    { logger: options.logger, writes },
  );
  const hasOpenOperations = () => [...connections].some((ctx) => Object.keys(ctx.subscriptions).length > 0);
  return {
    /**
     * Waits (up to `graceMs`) for operations to finish, so each client gets
     * its "complete" message, then closes every socket with 1001 "Going away".
     * Subscriptions end when the server's shutdown signal stops their feeds.
     */
    close: async (graceMs: number) => {
      const deadline = Date.now() + graceMs;
      while (hasOpenOperations() && Date.now() < deadline) await delay(10);
      await disposable.dispose();
    },
  };
}

/** Why this connection may not start another operation, if it may not. */
function refuse(ctx: Context, viewer: Viewer | undefined, maxOperations: number): GraphQLError | undefined {
  // graphql-ws has registered the new operation already, so it counts itself.
  const running = Object.keys(ctx.subscriptions).length;
  if (running > maxOperations) {
    return new GraphQLError(`At most ${maxOperations} subscriptions may run on one connection.`, {
      extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: maxOperations },
    });
  }
  if (viewer?.type === 'user' && viewer.expiresAt !== null && viewer.expiresAt.getTime() <= Date.now()) {
    return new GraphQLError('The token has expired; reconnect with a new one.', { extensions: { code: 'UNAUTHENTICATED' } });
  }
  return undefined;
}
