import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { App } from './app.js';

type EnvelopedRoot = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

/**
 * graphql-ws on the same path as HTTP. Operations run through yoga's
 * envelop, so parsing, validation, context, masking and every plugin are the
 * same as over HTTP (the recipe from yoga's graphql-ws docs).
 */
export function attachWebSocketServer(httpServer: Server, app: App) {
  const wsServer = new WebSocketServer({ server: httpServer, path: app.graphqlEndpoint });
  const connections = new Set<{ subscriptions: Record<string, unknown> }>();
  const disposable = useServer(
    {
      onConnect: (ctx) => {
        connections.add(ctx);
      },
      onClose: (ctx) => {
        connections.delete(ctx);
      },
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
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
