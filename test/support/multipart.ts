import { waitUntil } from './wait.js';

/** What Apollo Client sends with a subscription over `HttpLink`. */
export const APOLLO_SUBSCRIPTION_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json';

/** One multipart subscription as a client reads it: every part's JSON, and whether the closing boundary came. */
export type MultipartStream = Readonly<{
  response: Response;
  parts: readonly unknown[];
  /** Parts that carry a result (`{"payload": …}`), heartbeats (`{}`) left out. */
  payloads: () => unknown[];
  heartbeats: () => number;
  /** The closing delimiter (`--graphql--`) arrived and the body ended. */
  closed: () => boolean;
  /** Fails with the read error, if reading the body failed before `condition` held. */
  waitFor: (condition: () => boolean, what: string) => Promise<void>;
  abort: () => void;
  /** Settles once the body is read to its end (or the read is aborted). */
  ended: () => Promise<void>;
}>;

/**
 * POSTs a subscription and reads the multipart body as it streams, parsing
 * it the way Apollo Client's `readMultipartBody` does: split at
 * CRLF + `--boundary`, headers up to the blank line, then JSON.
 */
export async function openMultipartSubscription(
  url: string,
  payload: unknown,
  accept = APOLLO_SUBSCRIPTION_ACCEPT,
  /** An in-process app's `fetch`, say. */
  fetchFn: (url: string, init: RequestInit) => Promise<Response> = fetch,
): Promise<MultipartStream> {
  const controller = new AbortController();
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify(payload),
    signal: controller.signal,
  });
  const boundary = /boundary="?([^";]+)"?/.exec(response.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error(`Not a multipart response: ${response.status} ${response.headers.get('content-type')} ${await response.text()}`);
  const delimiter = `\r\n--${boundary}`;
  const parts: unknown[] = [];
  let closed = false;
  let failure: unknown;
  let buffer = '';
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const reading = (async () => {
    const decoder = new TextDecoder();
    reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let at = buffer.indexOf(delimiter);
      while (at > -1) {
        const message = buffer.slice(0, at);
        buffer = buffer.slice(at + delimiter.length);
        const blankLine = message.indexOf('\r\n\r\n');
        if (blankLine > -1) parts.push(JSON.parse(message.slice(blankLine + 4)));
        at = buffer.indexOf(delimiter);
      }
    }
    closed = buffer.startsWith('--');
  })().catch((error: unknown) => {
    if (!controller.signal.aborted) failure = error;
  });
  const isHeartbeat = (part: unknown) => typeof part === 'object' && part !== null && Object.keys(part).length === 0;
  return {
    response,
    parts,
    payloads: () => parts.filter((part) => !isHeartbeat(part)),
    heartbeats: () => parts.filter(isHeartbeat).length,
    closed: () => closed,
    waitFor: async (condition, what) => {
      await waitUntil(() => condition() || failure !== undefined, `${what} (parts so far: ${JSON.stringify(parts)})`);
      if (failure !== undefined && !condition()) throw failure;
    },
    // Cancelling the body is what a client going away amounts to, over a socket or in-process.
    abort: () => {
      controller.abort();
      void reader?.cancel().catch(() => {});
    },
    ended: () => reading,
  };
}
