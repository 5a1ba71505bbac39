import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';
import type { GraphQLErrorBody } from './graphql.js';
import { waitUntil } from './wait.js';

/** The two subscription transports the server speaks; suites loop over both. */
export const transports = ['graphql-ws', 'graphql-sse'] as const;
export type Transport = (typeof transports)[number];

export type Result<T> = Readonly<{ data?: T | null; errors?: readonly GraphQLErrorBody[] }>;

/** One subscription: everything it received, and how it ended. */
export type Subscription<T> = Readonly<{
  results: readonly Result<T>[];
  /** `data` of every result that has some, in arrival order. */
  data: () => T[];
  /** The sink's error (a CloseEvent-like object for graphql-ws, an Error for graphql-sse). */
  error: () => unknown;
  completed: () => boolean;
  ended: () => boolean;
  /** Waits until `count` results arrived (or fails with what did arrive). */
  waitForResults: (count: number, timeoutMs?: number) => Promise<void>;
  waitForEnd: (timeoutMs?: number) => Promise<void>;
  dispose: () => void;
}>;

export type SubscriptionClient = Readonly<{
  transport: Transport;
  subscribe: <T, V extends Record<string, unknown>>(document: TypedDocumentNode<T, V>, variables?: V) => Subscription<T>;
  /** Close events of the client's sockets (graphql-ws only). */
  closeEvents: readonly { code: number; reason: string }[];
  dispose: () => Promise<void>;
}>;

/**
 * A real client of `transport` against `server`, with retries off so every failure surfaces.
 * `authorization` ("Bearer <jwt>") goes where each transport carries it: graphql-ws
 * `connectionParams`, an HTTP header for SSE.
 */
export function openClient(
  transport: Transport,
  server: Pick<TestServer, 'url' | 'wsUrl'>,
  options: { authorization?: string } = {},
): SubscriptionClient {
  const closeEvents: { code: number; reason: string }[] = [];
  const { authorization } = options;
  const client =
    transport === 'graphql-ws'
      ? createWsClient({
          url: server.wsUrl,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: true,
          ...(authorization ? { connectionParams: { authorization } } : {}),
          on: { closed: (event) => void closeEvents.push(event as { code: number; reason: string }) },
        })
      : createSseClient({ url: server.url, retryAttempts: 0, ...(authorization ? { headers: { authorization } } : {}) });

  const subscribe = <T, V extends Record<string, unknown>>(document: TypedDocumentNode<T, V>, variables?: V): Subscription<T> => {
    const results: Result<T>[] = [];
    let error: unknown;
    let errored = false;
    let completed = false;
    const payload = { query: print(document), ...(variables ? { variables } : {}) };
    const sink = {
      next: (value: unknown) => void results.push(value as Result<T>),
      error: (e: unknown) => {
        errored = true;
        error = e;
      },
      complete: () => void (completed = true),
    };
    const unsubscribe = client.subscribe(payload, sink);
    const describe = () =>
      `${results.length} results so far${errored ? `, error ${JSON.stringify(error) ?? String(error)}` : ''}${completed ? ', completed' : ''}; last: ${JSON.stringify(results.at(-1))}`;
    return {
      results,
      data: () => results.flatMap((r) => (r.data == null ? [] : [r.data])),
      error: () => error,
      completed: () => completed,
      ended: () => completed || errored,
      waitForResults: async (count, timeoutMs) => {
        try {
          await waitUntil(() => results.length >= count || completed || errored, `${count} results`, timeoutMs);
        } catch (e) {
          throw new Error(`${(e as Error).message} (${transport}: ${describe()})`);
        }
        if (results.length < count) throw new Error(`${transport} subscription ended before ${count} results: ${describe()}`);
      },
      waitForEnd: (timeoutMs) => waitUntil(() => completed || errored, `the ${transport} subscription to end (${describe()})`, timeoutMs),
      dispose: unsubscribe,
    };
  };

  return {
    transport,
    subscribe,
    closeEvents,
    dispose: async () => {
      await client.dispose();
    },
  };
}

