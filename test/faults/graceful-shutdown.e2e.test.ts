import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { userStreamId } from '../support/graphql.js';
import { waitUntil } from '../support/wait.js';
import { startLoad } from './mutation-load.js';
import { checkStore, readEventLog } from './store-check.js';
import { STORES, storeUnderTest } from './store-under-test.js';

/** A websocket client following the whole log, recording what it received and how it ended, in order. */
function follow(url: string) {
  const received: string[] = [];
  const ending: string[] = [];
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    // A lazy client closes the socket itself (1000) once its last subscription completes;
    // staying connected lets the server's own close code show.
    lazy: false,
    onNonLazyError: () => {}, // the close is recorded below; by default it would be printed
    on: { closed: (event) => void ending.push(`closed ${(event as { code: number }).code}`) },
  });
  client.subscribe<{ userEvents: { userId: string; version: number } }>(
    { query: 'subscription { userEvents(after: "0") { userId version } }' },
    {
      next: ({ data }) => void received.push(`${userStreamId(data!.userEvents.userId)}@${data!.userEvents.version}`),
      error: (error) => void ending.push(`error ${JSON.stringify(error)}`),
      complete: () => void ending.push('complete'),
    },
  );
  return { received, ending };
}

describe.each(STORES)('SIGTERM under concurrent mutations and live subscriptions ($store)', ({ postgres }) => {
  const store = storeUnderTest('sigterm', postgres);

  it.skipIf(store.skip)('exits 0, completes every subscription before closing it with 1001, and loses no acknowledged mutation', { timeout: 120_000 }, async () => {
    const server = await store.spawn();
    const subscribers = Array.from({ length: 4 }, () => follow(server.url));
    const load = startLoad(server.url, { clients: 16, prefix: 'term' });
    // Signal mid-stream: mutations are flowing and every subscriber is receiving them live.
    const streaming = () => load.acknowledged() >= 100 && subscribers.every((s) => s.received.length >= 20);
    const state = () => `${load.acknowledged()} acknowledged; subscribers: ${JSON.stringify(subscribers.map((s) => [s.received.length, s.ending]))}`;
    await waitUntil(streaming, 'mutations to be acknowledged and streamed', 60_000).catch((error: Error) => {
      throw new Error(`${error.message} (${state()})`);
    });
    server.child.kill('SIGTERM');
    const outcomes = await load.done;
    expect(await server.exited).toBe(0);
    expect(server.logs.some((line) => line.msg === 'stopped')).toBe(true);

    // What the server answered during shutdown it answered properly (checkStore fails on anything
    // but a success); the rest was refused at the connection and is checked as unanswered.
    expect(outcomes.filter((o) => o.status === 'acknowledged').length).toBeGreaterThanOrEqual(100);
    for (const subscriber of subscribers) {
      await waitUntil(() => subscriber.ending.some((e) => e.startsWith('closed')), 'the websocket to close');
      expect(subscriber.ending).toEqual(['complete', 'closed 1001']);
    }

    const restarted = await store.spawn();
    await checkStore(restarted.url, store.source(), outcomes);
    // Each subscriber saw a gap-free, duplicate-free prefix of the log, in log order.
    const log = (await readEventLog(store.source())).events.map((e) => `${e.streamId}@${e.streamVersion}`);
    for (const { received } of subscribers) expect(received).toEqual(log.slice(0, received.length));
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  });
});
