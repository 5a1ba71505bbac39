import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { getSSEProcessor, isAsyncIterable, type Plugin } from 'graphql-yoga';

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
  const encoder = new TextEncoder();
  const iterator = results[Symbol.asyncIterator]();
  let ping: ReturnType<typeof setInterval> | undefined;
  let lastIdWritten: string | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Some browsers hold a fetch until the first bytes arrive.
      controller.enqueue(encoder.encode(':\n\n'));
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(':\n\n'));
      }, PING_INTERVAL_MS);
    },
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (value != null) {
          const id = cursor.lastDelivered;
          const idLine = id !== undefined && id !== lastIdWritten ? `id: ${id}\n` : '';
          lastIdWritten = id;
          controller.enqueue(encoder.encode(`event: next\n${idLine}data: ${serialise(value as ExecutionResult)}\n\n`));
        }
        if (done) {
          controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
          clearInterval(ping);
          controller.close();
        }
      } catch (error) {
        clearInterval(ping);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' },
  });
}

/** As yoga serialises a result: without the `http` and `unexpected` extensions that only steer the server. */
function serialise(result: ExecutionResult & { stringify?: (value: unknown) => string }): string {
  const stringify = result.stringify ?? JSON.stringify;
  if (!result.errors?.length && !result.extensions?.['http']) return stringify(result);
  const { http: _http, ...extensions } = result.extensions ?? {};
  return stringify({
    ...result,
    errors: result.errors?.map((error) => {
      const formatted: GraphQLFormattedError = error.toJSON();
      const { http: _status, unexpected: _unexpected, ...own } = formatted.extensions ?? {};
      return { ...formatted, extensions: Object.keys(own).length > 0 ? own : undefined };
    }),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  });
}
