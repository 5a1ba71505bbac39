import { getSSEProcessor, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { streamResults, withoutInternals } from './streamed-results.js';

/**
 * Server-sent events that a browser's `EventSource` resumes by itself.
 *
 * Each event of a subscription goes out with an `id:` line: the log position
 * of the event it was made from. On a reconnect the browser sends the last id
 * it saw as `Last-Event-ID`, and the subscription resumes right after it, so
 * the client gets no event twice and misses none. Yoga's own SSE writer has
 * no ids; this one writes the same frames (`event: next`, `data: …`,
 * `event: complete`, `:` pings) plus the ids.
 */
export type StreamCursor = {
  /** The request's `Last-Event-ID`: where a reconnecting client saw its last event. */
  readonly resumeAfter: string | null;
  /** The position of the event the result being written was made from. */
  lastDelivered: string | undefined;
};

export type ResumableSse = Readonly<{
  /** The cursor of an SSE request (created on first use); null for any other request. */
  cursorOf: (request: Request | undefined) => StreamCursor | null;
  plugin: Plugin;
}>;

const PING_INTERVAL_MS = 12_000;
const MAX_EVENT_ID_LENGTH = 256;

const wantsEventStream = (request: Request) => request.headers.get('accept')?.includes('text/event-stream') ?? false;

export function createResumableSse(): ResumableSse {
  const cursors = new WeakMap<Request, StreamCursor>();
  const yogaSse = getSSEProcessor();

  const cursorOf = (request: Request | undefined): StreamCursor | null => {
    if (!request || !wantsEventStream(request)) return null;
    let cursor = cursors.get(request);
    if (!cursor) {
      const header = request.headers.get('last-event-id');
      // An over-long id is no position of ours: ignore it rather than echo it into an error.
      const resumeAfter = header && header.length <= MAX_EVENT_ID_LENGTH ? header : null;
      cursors.set(request, (cursor = { resumeAfter, lastDelivered: undefined }));
    }
    return cursor;
  };

  return {
    cursorOf,
    plugin: {
      onResultProcess({ request, result, setResultProcessor }) {
        // A single result (an error before the stream started) keeps yoga's status handling.
        if (!isAsyncIterable(result) || !wantsEventStream(request)) return;
        const cursor = cursorOf(request)!;
        setResultProcessor((stream, fetchAPI, mediaType) => {
          if (!isAsyncIterable(stream)) return yogaSse(stream, fetchAPI, mediaType);
          return eventStreamResponse(stream as AsyncIterable<unknown>, cursor, fetchAPI);
        }, 'text/event-stream');
      },
    },
  };
}

function eventStreamResponse(results: AsyncIterable<unknown>, cursor: StreamCursor, fetchAPI: { Response: typeof Response }): Response {
  let lastIdWritten: string | undefined;
  const body = streamResults(results, {
    // Some browsers hold a fetch until the first bytes arrive.
    opening: ':\n\n',
    frame: (result) => {
      // Read as the result is written: the feed has just yielded the event it was made from.
      const id = cursor.lastDelivered;
      const idLine = id !== undefined && id !== lastIdWritten ? `id: ${id}\n` : '';
      lastIdWritten = id;
      return `event: next\n${idLine}data: ${JSON.stringify(withoutInternals(result))}\n\n`;
    },
    keepAlive: { everyMs: PING_INTERVAL_MS, text: ':\n\n' },
    closing: 'event: complete\ndata:\n\n',
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' },
  });
}
