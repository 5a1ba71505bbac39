import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { CREATE_USER, UPDATE_USER, USER_EVENT_POSITIONS, type MutationResult } from './documents.js';
import { resumingUserEvents, type IterableClient } from './resume.js';
import { freshUser, otherClient, storedPositions, succeeded, trackedWebSocket } from './support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type PositionEvent = { __typename: string; position: string; userId: string; version: number };

/** A real client of each transport, with a way to cut its current connection the way a network would. */
type Killable = { client: IterableClient; connections: () => number; kill: () => void; dispose: () => Promise<void> };

const clients: Record<'graphql-ws' | 'graphql-sse', (server: TestServer) => Killable> = {
  'graphql-ws': (server) => {
    const { WebSocketImpl, sockets } = trackedWebSocket();
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocketImpl, retryAttempts: 0, lazy: true });
    return {
      client,
      connections: () => sockets.length,
      // No close frame: to both ends this is a dropped connection (1006), not a goodbye.
      kill: () => sockets.at(-1)?.terminate(),
      dispose: () => Promise.resolve(client.dispose()),
    };
  },
  'graphql-sse': (server) => {
    const requests: AbortController[] = [];
    const client = createSseClient({
      url: server.url,
      retryAttempts: 0,
      // Each subscription is one streamed response (distinct connections mode); aborting it mid-stream is the drop.
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
        const controller = new AbortController();
        init?.signal?.addEventListener('abort', () => controller.abort(init.signal?.reason));
        requests.push(controller);
        return fetch(input, { ...init, signal: controller.signal });
      },
    });
    return {
      client,
      connections: () => requests.length,
      kill: () => requests.at(-1)?.abort(new Error('connection dropped by the test')),
      dispose: async () => client.dispose(),
    };
  },
};

async function createUser(): Promise<string> {
  return succeeded((await otherClient<{ createUser: MutationResult }>(server, CREATE_USER, { input: freshUser('resume') })).createUser).user.id;
}
async function rename(id: string): Promise<void> {
  succeeded((await otherClient<{ updateUser: MutationResult }>(server, UPDATE_USER, { input: { id, ...freshUser('renamed') } })).updateUser);
}

describe.each(Object.keys(clients) as (keyof typeof clients)[])('resuming userEvents over %s', (transport) => {
  it('delivers every event exactly once, in log order, across connections killed mid-stream', async () => {
    const ids = [await createUser(), await createUser(), await createUser(), await createUser()];
    const killable = clients[transport](server);
    const received: PositionEvent[] = [];
    const retries: unknown[] = [];
    const stop = new AbortController();
    const stream = resumingUserEvents<PositionEvent>(killable.client, USER_EVENT_POSITIONS, {
      after: '0',
      retryDelayMs: () => 50,
      signal: stop.signal,
      onRetry: (error) => void retries.push(error),
    });
    let failure: unknown;
    const consumed = (async () => {
      try {
        for await (const event of stream) received.push(event);
      } catch (error) {
        failure = error;
      }
    })();
    const check = () => {
      if (failure) throw failure;
    };
    const progress = () => `events; received ${received.length}, retries: ${retries.map(String).join(' | ')}`;
    try {
      // Killed during the replay of the stored log: the rest of the replay was in flight.
      await waitUntil(() => (check(), received.length >= 1), `the first replayed ${progress()}`);
      killable.kill();
      // Events appended while the connection is down or coming back.
      for (const id of ids) await rename(id);
      let expected = await storedPositions(server);
      await waitUntil(() => (check(), received.length >= expected.length), `${expected.length} ${progress()}`);
      expect(killable.connections()).toBeGreaterThanOrEqual(2);

      // Killed again while live.
      killable.kill();
      for (const id of ids) await rename(id);
      expected = await storedPositions(server);
      await waitUntil(() => (check(), received.length >= expected.length), `${expected.length} ${progress()}`);

      expect(retries.length, 'each kill is one recovered failure').toBeGreaterThanOrEqual(2);
      expect(killable.connections()).toBeGreaterThanOrEqual(3);
      expect(received.map((e) => e.position)).toEqual(expected);
      // Every user's versions 1..n, each once: no gap, no duplicate per stream either.
      for (const id of ids) expect(received.filter((e) => e.userId === id).map((e) => e.version)).toEqual([1, 2, 3]);
    } finally {
      stop.abort();
      await consumed;
      await killable.dispose();
    }
  });
});
