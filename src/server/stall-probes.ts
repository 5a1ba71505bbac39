import type { WebSocket } from 'ws';

/**
 * Tells a websocket subscriber that stopped reading from one that is merely
 * busy, by how long its socket takes to answer a ping sent after its frames.
 *
 * The byte limit (SUBSCRIPTION_MAX_BUFFERED_BYTES) only sees what waits in
 * this process, and a socket's kernel buffers can hide much more first: on
 * Linux a receiver's buffer grows up to `net.ipv4.tcp_rmem` (32 MB on the
 * bench machine), so a client that stopped reading took every event of a
 * benchmark run at full cost, like a live one, and was never cut. A ping
 * frame queues behind everything already sent, and a client answers it only
 * once it has read all that: no pong within `timeoutMs` of a ping sent after
 * an event means the client is that far behind. Only sockets that were sent
 * an event since their last pong are probed, so an idle subscription that
 * reads nothing costs nothing and is never cut.
 */
export type StallProbes = Readonly<{
  /** The probe of a subscriber's socket (one per socket, however many subscriptions share it). */
  of: (socket: WebSocket) => Probe;
  stop: () => void;
}>;

export type Probe = {
  /** Set by the fan-out at each frame it writes: there is something to answer for. */
  written: boolean;
  /** When the unanswered ping went out (performance.now()), if one is out. */
  pingedAt: number | undefined;
};

export function createStallProbes(options: Readonly<{ timeoutMs: number; onStalled: (socket: WebSocket) => void }>): StallProbes {
  const { timeoutMs, onStalled } = options;
  const known = new WeakMap<WebSocket, Probe>();
  /** Sockets with a subscription: the ones swept. */
  const active = new Set<WebSocket>();
  let timer: NodeJS.Timeout | undefined;

  const sweep = () => {
    const now = performance.now();
    for (const socket of active) {
      const probe = known.get(socket)!;
      if (socket.readyState !== socket.OPEN) {
        active.delete(socket);
        continue;
      }
      if (probe.pingedAt === undefined) {
        if (!probe.written) continue;
        probe.written = false;
        probe.pingedAt = now;
        socket.ping();
      } else if (now - probe.pingedAt > timeoutMs && probe.written) {
        active.delete(socket);
        probe.written = false;
        onStalled(socket);
      }
    }
    if (active.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    of: (socket) => {
      let probe = known.get(socket);
      if (!probe) {
        const created: Probe = { written: false, pingedAt: undefined };
        known.set(socket, (probe = created));
        socket.on('pong', () => {
          created.pingedAt = undefined;
        });
      }
      active.add(socket);
      // Half the timeout apart: a stalled socket is found between 1 and 1.5 timeouts after the ping it did not answer.
      timer ??= setInterval(sweep, Math.max(10, timeoutMs / 2)).unref();
      return probe;
    },
    stop: () => {
      clearInterval(timer);
      timer = undefined;
      active.clear();
    },
  };
}
