import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

/*
 * graphql-transport-ws `next` messages as bytes, built so that one event's
 * payload is serialised once for every subscriber of a cohort
 * (subscription-fanout.ts). A `next` message is
 *
 *   {"id":<id>,"type":"next","payload":<payload>}
 *
 * so it splits into a head that depends only on the subscriber (its id, made
 * once when it subscribes) and a tail that depends only on the event
 * (`<payload>}`, made once per event and cohort). graphql-ws builds each
 * message with its own JSON.stringify per subscriber, which is why these are
 * written here rather than sent through it.
 */

/** `{"id":<id>,"type":"next","payload":` for one subscription. */
export function nextHead(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

/**
 * `<payload>}` for one result, with the payload shaped as graphql-ws shapes it
 * (server.ts, `emit.next`): `errors` last and only when there are some, each
 * error as its `toJSON()`.
 */
export function nextTail(result: ExecutionResult): Buffer {
  const { errors, ...rest } = result;
  const payload = errors ? { ...rest, errors: errors.map((error) => error.toJSON()) } : rest;
  return Buffer.from(`${JSON.stringify(payload)}}`);
}

/** A graphql-transport-ws `error` message: the operation is over, and no `complete` follows it. */
export function errorMessage(id: string, errors: readonly { message: string; extensions?: Record<string, unknown> }[]): string {
  return JSON.stringify({ id, type: 'error', payload: errors });
}

const FIN_TEXT = 0x81;

/** Bytes of an unmasked frame's header for a payload of `length` bytes (RFC 6455 §5.2). */
export const frameHeaderLength = (length: number): number => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/**
 * Writes head + tail as one unmasked text frame (RFC 6455 §5.2, as a server
 * sends them) straight to the TCP socket under `socket`, in one write and one
 * buffer: `ws` has no call that sends a message made of two buffers, and
 * through `send` each frame would be copied into a new buffer and written as
 * two (its header, then the data). Falls back to `send` if the connection
 * negotiated an extension (permessage-deflate, which this server does not
 * offer): `ws` would then hold its own frames back while it compresses, and
 * ours would overtake them. Returns false once the socket's buffer is past its
 * high-water mark, as `Writable.write` does.
 */
export function writeTextFrame(socket: WebSocket, raw: Socket, head: Buffer, tail: Buffer): boolean {
  const length = head.length + tail.length;
  if (socket.extensions !== '') {
    socket.send(Buffer.concat([head, tail], length), { binary: false });
    return !raw.writableNeedDrain;
  }
  const headerLength = frameHeaderLength(length);
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(head, headerLength);
  frame.set(tail, headerLength + head.length);
  return raw.write(frame);
}
