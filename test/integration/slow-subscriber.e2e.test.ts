import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { sqliteSequence } from '../support/positions.js';
import { waitUntil } from '../support/wait.js';

/**
 * A subscriber that stops reading must neither hold up the others nor lose
 * events. (Its feed advances only as fast as its socket accepts messages:
 * a send waits once the socket's buffer passes its high-water mark, so the
 * server holds at most that much for it — test/server/coalesced-writes.int.test.ts
 * checks the bound; this test checks the behaviour a client sees.)
 */
describe('a stalled subscriber', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  /** A raw graphql-transport-ws client whose reading can be paused at the TCP level. */
  async function rawSubscriber() {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const positions: number[] = [];
    let acked = false;
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; payload?: { data?: { userEvents: { position: string } } } };
      if (message.type === 'connection_ack') acked = true;
      if (message.type === 'next') positions.push(sqliteSequence(message.payload!.data!.userEvents.position));
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await waitUntil(() => acked, 'connection_ack');
    socket.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { userEvents(after: "0") { position } }' } }),
    );
    return { socket, positions, pause: () => socket.pause(), resume: () => socket.resume() };
  }

  it('does not delay other subscribers, and receives everything once it reads again', { timeout: 90_000 }, async () => {
    const stalled = await rawSubscriber();
    const healthy = await rawSubscriber();
    stalled.pause();

    const total = 1500;
    for (let batch = 0; batch < total / 50; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          return gql(server.url, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename } }', {
            input: { username: `stall_${n}`, email: `stall.${n}@example.com` },
          });
        }),
      );
    }
    await waitUntil(() => healthy.positions.length === total, 'the healthy subscriber to get every event', 30_000);
    expect(healthy.positions).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // The stalled one got at most what fit in the socket buffers before it stopped reading.

    stalled.resume();
    await waitUntil(() => stalled.positions.length === total, 'the stalled subscriber to catch up', 30_000);
    expect(stalled.positions).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    stalled.socket.close();
    healthy.socket.close();
  });
});
