import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createCoalescedWrites } from '../../src/server/coalesced-writes.js';
import { waitUntil } from '../support/wait.js';

/** A real ws server and client over loopback; the server side is driven by hand. */
describe('coalesced websocket writes', () => {
  let http: Server;
  let wss: WebSocketServer;
  let server: { socket: WebSocket; raw: Socket };
  let client: WebSocket;
  const received: string[] = [];

  beforeEach(async () => {
    received.length = 0;
    http = createServer();
    wss = new WebSocketServer({ server: http });
    const connected = new Promise<void>((resolve) =>
      wss.once('connection', (socket, request) => {
        server = { socket, raw: request.socket };
        resolve();
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    client.on('message', (data) => received.push(String(data)));
    // pause() does nothing to a socket still connecting.
    await Promise.all([connected, new Promise((resolve) => client.once('open', resolve))]);
  });
  afterEach(async () => {
    client.terminate();
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it('holds the frames of one turn in the stream, then writes them together, in order', async () => {
    const writes = createCoalescedWrites();
    const sends = ['one', 'two', 'three'].map((text) => writes.send(server.socket, server.raw, text));
    // Written one by one they would be in the kernel by now and the stream empty.
    expect(server.raw.writableLength).toBeGreaterThan(0);
    await Promise.all(sends);
    await nextTurn();
    expect(server.raw.writableLength).toBe(0);
    await waitUntil(() => received.length === 3, 'three messages');
    expect(received).toEqual(['one', 'two', 'three']);
  });

  it('makes a sender wait once the buffer passes its high-water mark, and loses nothing', async () => {
    const writes = createCoalescedWrites();
    client.pause();
    const message = 'x'.repeat(10_000);
    const limit = 5_000; // 50 MB: far more than the kernel's socket buffers take
    let sent = 0;
    const sending = (async () => {
      while (sent < limit) {
        await writes.send(server.socket, server.raw, `${sent}:${message}`);
        sent += 1;
      }
    })();
    let before = -1;
    while (sent !== before) {
      before = sent;
      await delay(200);
    }
    expect(sent).toBeLessThan(limit);
    // Bounded: what waits in our stream is the high-water mark plus the frame that crossed it.
    expect(server.raw.writableLength).toBeLessThan(server.raw.writableHighWaterMark + 2 * message.length);

    client.resume();
    await sending;
    await waitUntil(() => received.length === limit, 'every message', 20_000);
    expect(received.map((text) => Number(text.slice(0, text.indexOf(':'))))).toEqual(Array.from({ length: limit }, (_, i) => i));
  });
});
