import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Sends websocket messages so that what one turn of the event loop sends to a
 * socket leaves in one write.
 *
 * An event fans out to every subscriber as one small frame per socket. Written
 * one by one, each frame is its own system call — the largest share of the
 * server's CPU with a thousand subscribers (BENCHMARKS.md) — and a subscriber
 * that fell behind gets its backlog as many calls instead of one. So a socket
 * is corked at its first frame of a turn and uncorked once the turn's I/O is
 * done (`setImmediate`), which adds no wait to a quiet socket.
 *
 * A send counts as done as soon as its frame is queued, while the socket's
 * buffer is under its high-water mark: that lets a subscriber queue its whole
 * backlog in one turn. Past the mark it waits for the write, so a slow client
 * only holds back its own feed, and memory stays bounded per socket.
 */
export type CoalescedWrites = ReturnType<typeof createCoalescedWrites>;

export function createCoalescedWrites() {
  const corked = new Set<Socket>();
  const flush = () => {
    for (const raw of corked) raw.uncork();
    corked.clear();
  };
  /** Corks `raw` until this turn's I/O is done, if it is not corked yet. */
  const hold = (raw: Socket) => {
    if (corked.has(raw)) return;
    if (corked.size === 0) setImmediate(flush);
    corked.add(raw);
    raw.cork();
  };
  return {
    hold,
    /** `raw` is the TCP socket under `socket`: ws writes to the one the upgrade request arrived on. */
    send: (socket: WebSocket, raw: Socket, data: string) =>
      new Promise<void>((resolve, reject) => {
        if (socket.readyState !== socket.OPEN) return resolve();
        hold(raw);
        if (raw.writableLength < raw.writableHighWaterMark) {
          // A failed write closes the socket, and graphql-ws learns of it from the close.
          socket.send(data);
          resolve();
        } else {
          socket.send(data, (error) => (error ? reject(error) : resolve()));
        }
      }),
  };
}
