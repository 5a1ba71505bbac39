import { createGraphQLError, type Plugin } from 'graphql-yoga';

const tooLarge = () =>
  createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
const invalidLength = () =>
  createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

// One non-negative integer; a list (as in request-smuggling attempts) or a sign is refused.
const CONTENT_LENGTH = /^\d+$/;

/**
 * The request body limit, with the answers of yoga's `maxRequestBodySize`
 * (413 REQUEST_ENTITY_TOO_LARGE, 400 for a malformed Content-Length), which
 * this replaces. Yoga pipes every body through a byte-counting stream, and
 * that pipeline (an AbortController and a DOMException per request) is a
 * visible share of the server's CPU on small queries. A body with a Content-Length needs
 * no counting: the HTTP parser hands over exactly that many bytes, so the
 * header alone decides. Only a body without one (chunked) is counted as it
 * streams in.
 */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!CONTENT_LENGTH.test(contentLength)) throw invalidLength();
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      const body = request.body;
      if (!requestParser || !body) return;
      // A native body needs the native TransformStream, a ponyfilled one the ponyfill (graphql-yoga#4583).
      const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
      let bytesRead = 0;
      const counted = body.pipeThrough(
        new Transform<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            bytesRead += chunk.byteLength;
            if (bytesRead > limit) controller.error(tooLarge());
            else controller.enqueue(chunk);
          },
        }),
      );
      const parse = requestParser;
      setRequestParser((original) =>
        parse(
          new fetchAPI.Request(original.url, {
            method: original.method,
            headers: original.headers,
            signal: original.signal,
            body: counted,
            // @ts-expect-error `duplex` is required for a streaming body but missing from the DOM types.
            duplex: 'half',
          }),
        ),
      );
    },
  };
}
