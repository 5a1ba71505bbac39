import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createReadReceipts, type ReadReceiptsOptions } from '../../src/server/read-receipts.js';
import { waitUntil } from '../support/wait.js';

/** A real ws server and client over loopback: the client answers pings as it reads them (or not, when told), and can stop reading. */
describe('read receipts', () => {
  let http: Server;
  let wss: WebSocketServer;
  let server: WebSocket;
  let client: WebSocket;
  let pongs = 0;
  /** Pings the client read but was told not to answer yet. */
  let unanswered: Buffer[] | undefined;
  const confirmed: WebSocket[] = [];
  const stalled: WebSocket[] = [];

  const receiptsFor = (options: Partial<ReadReceiptsOptions>) => {
    const receipts = createReadReceipts({
      windowBytes: 4_000,
      stallTimeoutMs: 0,
      onConfirmed: (socket) => confirmed.push(socket),
      onStalled: (socket) => stalled.push(socket),
      ...options,
    });
    return receipts.of(server);
  };
  /** Sends a frame of `bytes` payload bytes, and counts it as the fan-out does. */
  const send = (receipts: { wrote: (bytes: number) => void }, bytes: number) => {
    server.send('x'.repeat(bytes));
    receipts.wrote(bytes);
  };

  beforeEach(async () => {
    confirmed.length = 0;
    stalled.length = 0;
    pongs = 0;
    unanswered = undefined;
    http = createServer();
    wss = new WebSocketServer({ server: http });
    const connected = new Promise<void>((resolve) =>
      wss.once('connection', (socket) => {
        server = socket;
        server.on('pong', () => (pongs += 1));
        resolve();
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`, { autoPong: false });
    client.on('ping', (data) => (unanswered ? unanswered.push(data) : client.pong(data)));
    await Promise.all([connected, new Promise((resolve) => client.once('open', resolve))]);
  });
  afterEach(async () => {
    client.terminate();
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it('counts what the client has not confirmed reading; its pong confirms what went before the ping, not after', async () => {
    const receipts = receiptsFor({});
    client.pause();
    // A quarter window (1,000) out: a ping follows the second frame, and no other until it is answered.
    for (let i = 0; i < 10; i++) send(receipts, 500);
    expect(receipts.unconfirmed()).toBe(5_000);
    await delay(50);
    expect(confirmed).toHaveLength(0);
    expect(receipts.unconfirmed()).toBe(5_000);

    client.resume();
    // The first pong confirms 1,000 and, with 4,000 still unconfirmed, sends the next ping at once.
    await waitUntil(() => receipts.unconfirmed() === 0, 'every byte to be confirmed');
    expect(confirmed).toEqual([server, server]);
    expect(pongs).toBe(2);
  });

  it('takes no other pong for a receipt (a keepalive ping carries no number of ours); `ask` gets one for what is out', async () => {
    const receipts = receiptsFor({});
    unanswered = [];
    send(receipts, 1_000);
    await waitUntil(() => unanswered!.length === 1, 'the client to read the ping');
    // A pong that answers no ping of ours, while ours is out: it confirms nothing.
    client.pong(Buffer.from('keepalive'));
    client.pong();
    await waitUntil(() => pongs === 2, 'the other pongs');
    expect(receipts.unconfirmed()).toBe(1_000);
    expect(confirmed).toHaveLength(0);
    client.pong(unanswered![0]);
    await waitUntil(() => confirmed.length === 1, 'the receipt');
    expect(receipts.unconfirmed()).toBe(0);
    unanswered = undefined;

    // Under a quarter window: no ping until asked for one.
    send(receipts, 300);
    await delay(50);
    expect(pongs).toBe(3);
    receipts.ask();
    await waitUntil(() => confirmed.length === 2, 'the asked-for receipt');
    expect(receipts.unconfirmed()).toBe(0);
    // Nothing out now: asking again sends nothing.
    receipts.ask();
    await delay(50);
    expect(pongs).toBe(4);
  });

  it('finds a client stalled once it leaves a ping unanswered past the timeout with frames sent after it; a reading or idle one never', async () => {
    const receipts = receiptsFor({ stallTimeoutMs: 60 });
    send(receipts, 10);
    // Reading: every sweep's ping is answered.
    for (let i = 0; i < 5; i++) {
      await delay(40);
      send(receipts, 10);
    }
    await delay(200);
    expect(stalled).toHaveLength(0);

    client.pause();
    send(receipts, 10);
    // Pinged at the next sweep; then idle, with nothing sent after the ping: not stalled, however long.
    await delay(300);
    expect(stalled).toHaveLength(0);
    send(receipts, 10);
    await waitUntil(() => stalled.length === 1, 'the stall to be found');
    expect(stalled).toEqual([server]);
  });
});
