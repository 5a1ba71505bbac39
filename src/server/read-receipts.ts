import type { WebSocket } from 'ws';

/**
 * How far behind a websocket subscriber's client is, learnt from the client
 * itself: a ping frame queues behind every frame sent before it, and the
 * client answers it only once it has read them all, so its pong is a
 * receipt for those bytes.
 *
 * The byte limit could not see this alone. What waits in this process
 * (`writableLength`) is only the last part of a stalled client's backlog:
 * the kernel buffers in between take megabytes first (a receiver's buffer
 * grows up to `net.ipv4.tcp_rmem`, 32 MB on the bench machine). So a client
 * that stopped reading was written every event at full cost, like a live
 * one, until a timer noticed, and the live subscribers paid for it.
 *
 * - **Bytes.** A ping goes out with every quarter of `windowBytes` written
 *   (one at a time, each carrying its own number, so another pong, such as
 *   graphql-ws's keepalive's, confirms nothing). `unconfirmed()` is what was
 *   written after the last receipt: the fan-out writes no further than
 *   `windowBytes` ahead of it, and holds the rest until the next receipt
 *   (subscription-fanout.ts). A live client keeps up; a stalled one is held
 *   after one window and cut once what is held passes the limit too.
 * - **Time** (`stallTimeoutMs`, 0: never). A client that stopped reading
 *   with little sent never reaches the window. Every half timeout, a socket
 *   written to since its last ping gets one; one written to after a ping it
 *   has left unanswered for longer than the timeout is stalled. Only sockets
 *   sent something are probed, so an idle subscription that reads nothing
 *   costs nothing and is never cut.
 */
export type ReadReceipts = Readonly<{
  /** The receipts of a subscriber's socket (one per socket, however many subscriptions share it). */
  of: (socket: WebSocket) => Receipts;
}>;

export type Receipts = Readonly<{
  /** Bytes written to the socket that its client has not yet shown it read. */
  unconfirmed: () => number;
  /** Counts a frame just written (and pings when a quarter window went out since the last ping). */
  wrote: (bytes: number) => void;
  /** Makes sure a ping is out for everything written so far: the caller holds frames until its receipt. */
  ask: () => void;
}>;

export type ReadReceiptsOptions = Readonly<{
  windowBytes: number;
  /** 0: only bytes count. */
  stallTimeoutMs: number;
  /** The client left a ping sent after its frames unanswered for `stallTimeoutMs`. */
  onStalled: (socket: WebSocket) => void;
  /** The client confirmed reading more: frames held for it may go out. */
  onConfirmed: (socket: WebSocket) => void;
}>;

type State = {
  /** Bytes written to the socket, and how many of them the client confirmed. */
  sent: number;
  confirmed: number;
  /** The ping out, if one is: its number, `sent` when it went, and when (performance.now()). */
  ping: { id: number; sent: number; at: number } | undefined;
  /** Written to since the last ping went out: something the client has to answer for. */
  written: boolean;
};

const PING_ID_BYTES = 8;

export function createReadReceipts(options: ReadReceiptsOptions): ReadReceipts {
  const { windowBytes, stallTimeoutMs, onStalled, onConfirmed } = options;
  const pingEvery = Math.max(1, Math.floor(windowBytes / 4));
  const known = new WeakMap<WebSocket, Receipts>();
  /** Sockets the time probe sweeps: those written to since their last receipt. */
  const swept = new Map<WebSocket, State>();
  let pings = 0;
  let timer: NodeJS.Timeout | undefined;

  const ping = (socket: WebSocket, state: State) => {
    const id = (pings += 1);
    const payload = Buffer.allocUnsafe(PING_ID_BYTES);
    payload.writeDoubleBE(id);
    state.ping = { id, sent: state.sent, at: performance.now() };
    state.written = false;
    // A socket closing under us is graphql-ws's to handle: the ping is simply lost with it.
    if (socket.readyState === socket.OPEN) socket.ping(payload);
  };

  const sweep = () => {
    const now = performance.now();
    for (const [socket, state] of swept) {
      if (socket.readyState !== socket.OPEN) {
        swept.delete(socket);
      } else if (state.ping === undefined) {
        if (state.written) ping(socket, state);
      } else if (now - state.ping.at > stallTimeoutMs && state.written) {
        swept.delete(socket);
        state.written = false;
        onStalled(socket);
      }
    }
    if (swept.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const watch = (socket: WebSocket, state: State) => {
    if (stallTimeoutMs <= 0 || swept.has(socket)) return;
    swept.set(socket, state);
    // Half the timeout apart: a stalled socket is found between 1 and 1.5 timeouts after the ping it did not answer.
    timer ??= setInterval(sweep, Math.max(10, stallTimeoutMs / 2)).unref();
  };

  const create = (socket: WebSocket): Receipts => {
    const state: State = { sent: 0, confirmed: 0, ping: undefined, written: false };
    socket.on('pong', (data: Buffer) => {
      const out = state.ping;
      if (!out || data.length !== PING_ID_BYTES || data.readDoubleBE(0) !== out.id) return;
      state.ping = undefined;
      state.confirmed = out.sent;
      if (state.sent - state.confirmed >= pingEvery) ping(socket, state);
      else if (state.sent === state.confirmed) swept.delete(socket);
      onConfirmed(socket);
    });
    return {
      unconfirmed: () => state.sent - state.confirmed,
      wrote: (bytes) => {
        state.sent += bytes;
        state.written = true;
        watch(socket, state);
        if (state.ping === undefined && state.sent - state.confirmed >= pingEvery) ping(socket, state);
      },
      ask: () => {
        if (state.ping === undefined && state.sent > state.confirmed) ping(socket, state);
      },
    };
  };

  return {
    of: (socket) => {
      let receipts = known.get(socket);
      if (!receipts) known.set(socket, (receipts = create(socket)));
      return receipts;
    },
  };
}
