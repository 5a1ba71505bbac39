import type { ExecutionResult, GraphQLFormattedError } from 'graphql';

/**
 * One HTTP response body carrying a subscription's results as they come: the
 * shape shared by the SSE and the multipart writers, which differ only in how
 * a result, a keep-alive and the end are framed.
 *
 * The body pulls: a result is read from the subscription only when the client
 * has taken the previous one, so a slow client holds no queue here, and a
 * keep-alive is skipped rather than queued behind events.
 */
export type ResultFraming = Readonly<{
  /** Written once, before any result. */
  opening: string;
  frame: (result: ExecutionResult) => string;
  keepAlive: Readonly<{ everyMs: number; text: string }>;
  /** Written when the subscription completes. */
  closing: string;
}>;

export function streamResults(results: AsyncIterable<unknown>, framing: ResultFraming): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = results[Symbol.asyncIterator]();
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(framing.opening));
      keepAlive = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(keepAlive);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(framing.keepAlive.text));
      }, framing.keepAlive.everyMs);
    },
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (value != null) controller.enqueue(encoder.encode(framing.frame(value as ExecutionResult)));
        if (done) {
          clearInterval(keepAlive);
          controller.enqueue(encoder.encode(framing.closing));
          controller.close();
        }
      } catch (error) {
        clearInterval(keepAlive);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(keepAlive);
      await iterator.return?.();
    },
  });
}

/**
 * A result as yoga serialises it: without the `http` and `unexpected`
 * extensions, which only steer the server's answer.
 */
export function withoutInternals(result: ExecutionResult): ExecutionResult | (Omit<ExecutionResult, 'errors'> & { errors?: GraphQLFormattedError[] }) {
  if (!result.errors?.length && !result.extensions?.['http']) return result;
  const { http: _http, ...extensions } = result.extensions ?? {};
  return {
    ...result,
    errors: result.errors?.map((error) => {
      const formatted: GraphQLFormattedError = error.toJSON();
      const { http: _status, unexpected: _unexpected, ...own } = formatted.extensions ?? {};
      return { ...formatted, extensions: Object.keys(own).length > 0 ? own : undefined };
    }),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  };
}
