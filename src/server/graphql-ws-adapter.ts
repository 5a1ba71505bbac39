import type { IncomingMessage } from 'node:http';
import { CloseCode, DEPRECATED_GRAPHQL_WS_PROTOCOL, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { createCoalescedWrites, type CoalescedWrites } from './coalesced-writes.js';

/** What graphql-ws hands to our hooks as `ctx.extra`, as its own `ws` adapter does. */
export type WebSocketExtra = Readonly<{ socket: WebSocket; request: IncomingMessage }>;

export type GraphQLWsAdapterOptions = Readonly<{
  logger: Logger;
  /** A ping goes out this often; a client that has not answered the previous one is cut off. @default 12000 */
  keepAliveMs?: number;
  /** Shared with whatever else writes to these sockets in the same turn (subscription-fanout.ts). */
  writes?: CoalescedWrites;
}>;

/**
 * graphql-ws's protocol over `ws`, as graphql-ws's own `useServer` does it
 * (its documented way to bring a transport: `makeServer(...).opened(...)`),
 * with two differences: what a turn of the event loop sends to a socket leaves
 * in one write (see coalesced-writes.ts), and errors go to our logger rather
 * than the console.
 */
export function useGraphQLWsServer(options: ServerOptions<Record<string, unknown>, WebSocketExtra>, wsServer: WebSocketServer, adapter: GraphQLWsAdapterOptions) {
  const { logger, keepAliveMs = 12_000, writes = createCoalescedWrites() } = adapter;
  const server = makeServer(options);
  wsServer.options.handleProtocols = handleProtocols;
  wsServer.once('error', (error) => {
    logger.error({ err: error }, 'websocket server error');
    for (const client of wsServer.clients) client.close(CloseCode.InternalServerError, 'Internal server error');
  });
  wsServer.on('connection', (socket, request) => {
    socket.once('error', (error) => {
      logger.warn({ err: error }, 'websocket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const keepAlive = keepAliveMs > 0 ? startKeepAlive(socket, keepAliveMs) : undefined;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => writes.send(socket, request.socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (message) => {
            try {
              await handle(String(message));
            } catch (error) {
              logger.error({ err: error }, 'graphql-ws failed to handle a message');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      keepAlive?.stop();
      if (code === CloseCode.SubprotocolNotAcceptable && socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
        logger.debug('a client asked for the retired subscriptions-transport-ws protocol');
      }
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Pings; a client that has not answered by the next ping is terminated, as graphql-ws's adapter does. */
function startKeepAlive(socket: WebSocket, intervalMs: number) {
  let pongWait: NodeJS.Timeout | undefined;
  const interval = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    pongWait = setTimeout(() => socket.terminate(), intervalMs);
    socket.once('pong', () => {
      clearTimeout(pongWait);
      pongWait = undefined;
    });
    socket.ping();
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(interval);
      clearTimeout(pongWait);
    },
  };
}
