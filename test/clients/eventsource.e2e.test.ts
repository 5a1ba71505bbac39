import { EventSource, type FetchLike, type FetchLikeResponse } from 'eventsource';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { CREATE_USER, UPDATE_USER, USER_EVENTS, type MutationResult, type UserEvent } from './documents.js';
import { freshUser, otherClient, storedPositions, succeeded } from './support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/**
 * fetch for the `eventsource` package (the WHATWG EventSource for Node) that
 * records each request's Last-Event-ID and can end the current response
 * mid-stream, as a dropped connection would. EventSource then reconnects by
 * itself, sending the id of the last event it saw.
 */
function droppableFetch() {
  const requests: { lastEventId: string | null }[] = [];
  const drops: (() => void)[] = [];
  const droppable: FetchLike = async (url, init) => {
    requests.push({ lastEventId: new Headers(init.headers).get('last-event-id') });
    const response = await fetch(url, init as RequestInit);
    if (!response.body) return response;
    const reader = response.body.getReader();
    let drop = () => {};
    const dropped = new Promise<{ done: true }>((resolve) => {
      drop = () => {
        resolve({ done: true });
        void reader.cancel().catch(() => {});
      };
    });
    drops.push(drop);
    const wrapped: FetchLikeResponse = {
      url: response.url,
      status: response.status,
      redirected: response.redirected,
      headers: response.headers,
      body: { getReader: () => ({ read: () => Promise.race([reader.read(), dropped]), cancel: () => reader.cancel() }) },
    };
    return wrapped;
  };
  return { fetch: droppable, requests, drop: () => drops.at(-1)?.() };
}

describe('EventSource (the eventsource package) subscribing by GET', () => {
  it('follows userEvents, and after a dropped connection resumes with Last-Event-ID: no gap, no duplicate', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(succeeded((await otherClient<{ createUser: MutationResult }>(server, CREATE_USER, { input: freshUser('es') })).createUser).user.id);
    }
    const url = new URL(server.url);
    url.searchParams.set('query', print(USER_EVENTS));
    url.searchParams.set('variables', JSON.stringify({ after: '0' }));
    const network = droppableFetch();
    const source = new EventSource(url, { fetch: network.fetch });
    const received: { id: string; event: UserEvent }[] = [];
    const problems: string[] = [];
    source.addEventListener('next', (message) => {
      const result = JSON.parse(message.data) as { data?: { userEvents: UserEvent }; errors?: unknown };
      if (result.data) received.push({ id: message.lastEventId, event: result.data.userEvents });
      else problems.push(message.data);
    });
    source.addEventListener('error', (error) => void problems.push(`error: ${error.message ?? ''} ${error.code ?? ''}`));
    const progress = () => `events; received ${received.length}; problems: ${problems.join(' | ')}; ready state ${source.readyState}`;
    try {
      await waitUntil(() => received.length >= 1 || source.readyState === source.CLOSED, `the first ${progress()}`);
      expect(received.length, progress()).toBeGreaterThanOrEqual(1);
      network.drop();
      const lastBeforeDrop = received.at(-1)!.id;
      for (const id of ids) await otherClient(server, UPDATE_USER, { input: { id, ...freshUser('es_renamed') } });

      const expected = await storedPositions(server);
      await waitUntil(() => received.length >= expected.length || source.readyState === source.CLOSED, `${expected.length} ${progress()}`);
      expect(received.map((r) => r.event.position)).toEqual(expected);
      // Each message's id is its position: that is what EventSource sends back.
      expect(received.every((r) => r.id === r.event.position)).toBe(true);
      expect(network.requests.length).toBeGreaterThanOrEqual(2);
      expect(network.requests[0]?.lastEventId).toBeNull();
      expect(network.requests[1]?.lastEventId).toBe(lastBeforeDrop);
      // The events carry the user as it is now.
      const last = received.at(-1)!.event;
      expect(last).toMatchObject({ __typename: 'UserUpdated', version: 2, user: { id: last.userId, version: 2 } });
    } finally {
      source.close();
    }
  });
});
