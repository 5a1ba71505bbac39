import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { streamResults, withoutInternals } from './streamed-results.js';

export type MultipartSubscriptionOptions = Readonly<{
  /**
   * An empty part (`{}`) is sent this often while no event arrives, so that
   * proxies keep the connection and the client can tell a quiet stream from a dead one.
   * @default 5000 (Apollo's router sends one every 5 s)
   */
  heartbeatMs?: number;
}>;

const BOUNDARY = 'graphql';
const PART_HEADER = '\r\nContent-Type: application/json; charset=utf-8\r\n\r\n';

/**
 * Subscriptions over one HTTP response, in Apollo's multipart subscription
 * protocol (what Apollo Client's `HttpLink` speaks when it sends a
 * subscription: `Accept: multipart/mixed;subscriptionSpec=1.0, application/json`).
 *
 * yoga streams subscriptions over SSE only: its own multipart/mixed is the
 * incremental-delivery format (boundary `-`, bare results), which it refuses
 * for subscriptions with 406. Apollo's protocol differs: boundary `graphql`,
 * each result wrapped as `{"payload": …}`, and `{}` heartbeats. This
 * processor takes over only streams whose request asked for that spec;
 * request errors (validation, limits) still get yoga's plain JSON answer,
 * which Apollo Client reads as well.
 *
 * Each part is written whole and followed at once by the next boundary, so
 * the client sees an event as soon as it is sent, not when the next one comes.
 *
 * Must come after every other plugin that picks a result processor: it also
 * ends subscriptions that none of them took.
 */
export function useMultipartSubscriptions({ heartbeatMs = 5000 }: MultipartSubscriptionOptions = {}): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      if (acceptsMultipartSubscriptions(request)) {
        setResultProcessor((stream, fetchAPI) => multipartResponse(stream as AsyncIterable<ExecutionResult>, fetchAPI, heartbeatMs), 'multipart/mixed');
      } else if (!resultProcessor) {
        // yoga answers 406 when no format it streams in was accepted, but never ends the
        // subscription it already started: its feed and its place on the gauge would stay for good.
        void result[Symbol.asyncIterator]().return?.();
      }
    },
  };
}

/** `multipart/mixed` with a `subscriptionSpec` parameter (quoted or not) among the accepted types. */
export function acceptsMultipartSubscriptions(request: Request): boolean {
  const accept = request.headers.get('accept');
  if (!accept) return false;
  return accept.split(',').some((type) => {
    const [mediaType, ...parameters] = type.split(';').map((part) => part.trim().toLowerCase());
    return mediaType === 'multipart/mixed' && parameters.some((parameter) => /^subscriptionspec="?1\.0"?$/.test(parameter));
  });
}

function multipartResponse(stream: AsyncIterable<ExecutionResult>, fetchAPI: { Response: typeof Response }, heartbeatMs: number): Response {
  const part = (json: string) => `${PART_HEADER}${json}\r\n--${BOUNDARY}`;
  const body = streamResults(stream, {
    opening: `\r\n--${BOUNDARY}`,
    frame: (result) => part(JSON.stringify({ payload: withoutInternals(result) })),
    keepAlive: { everyMs: heartbeatMs, text: part('{}') },
    closing: '--\r\n',
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      'Content-Type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    },
  });
}
