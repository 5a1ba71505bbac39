import type { FormattedExecutionResult } from 'graphql';

/**
 * What both subscription libraries offer: graphql-ws's and graphql-sse's
 * `client.iterate(request)`. The library's own retries must be off
 * (`retryAttempts: 0`): they would resend the first request, with the first
 * `after`, and replay what the app already has.
 */
export type IterableClient = {
  iterate(request: { query: string; variables: Record<string, unknown> }): AsyncIterableIterator<FormattedExecutionResult<unknown, unknown>>;
};

export type ResumeOptions = Readonly<{
  /** Where to start: a `position` the app already has, or "0" for the whole log. */
  after: string;
  /** Only this user's events. */
  userId?: string;
  /** Consecutive failed (re)connects before giving up; any received event resets the count. */
  maxRetries?: number;
  /** Wait before reconnect number `attempt` (1, 2, …). */
  retryDelayMs?: (attempt: number) => number;
  /** Told about every connection failure the loop recovers from. */
  onRetry?: (error: unknown, attempt: number) => void;
  /**
   * Stops following (the iteration ends). Needed because an async generator's
   * `return()` waits behind a pending `next()`, which waits for the next event.
   */
  signal?: AbortSignal;
}>;

/** A result with GraphQL errors: the server refused the subscription; retrying would not help. */
export class SubscriptionRefused extends Error {
  constructor(readonly errors: FormattedExecutionResult['errors']) {
    super(`subscription refused: ${JSON.stringify(errors)}`);
  }
}

/**
 * `userEvents` across reconnects with no gap and no duplicate: every
 * (re)subscription asks for the events after the last one received, so the
 * server replays exactly what the dropped connection did not deliver.
 * `query` selects `userEvents { position … }` and takes `$after` (and `$userId`).
 * The iteration ends when the server completes the subscription, when the
 * consumer breaks out of it, or when `signal` aborts; each ends the current subscription.
 */
export async function* resumingUserEvents<Event extends { position: string }>(
  client: IterableClient,
  query: string,
  options: ResumeOptions,
): AsyncGenerator<Event, void, undefined> {
  const { maxRetries = 10, retryDelayMs = (attempt) => Math.min(100 * 2 ** attempt, 5_000), signal } = options;
  let after = options.after;
  let failures = 0;
  while (!signal?.aborted) {
    const variables = { after, ...(options.userId === undefined ? {} : { userId: options.userId }) };
    const results = client.iterate({ query, variables });
    const stop = () => void results.return?.();
    signal?.addEventListener('abort', stop);
    try {
      for await (const result of results) {
        if (result.errors?.length) throw new SubscriptionRefused(result.errors);
        const event = (result.data as { userEvents: Event }).userEvents;
        after = event.position;
        failures = 0;
        yield event;
      }
      return;
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof SubscriptionRefused || failures >= maxRetries) throw error;
      failures += 1;
      options.onRetry?.(error, failures);
      await sleep(retryDelayMs(failures), signal);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
