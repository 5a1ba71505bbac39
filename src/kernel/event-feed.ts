import type { StoredEvent } from './messages.js';
import type { Position } from './position.js';
import type { EventReader } from './shared-reads.js';
import type { WakeSignal } from './wake-signal.js';

export type FollowOptions = Readonly<{
  /** Exclusive: the first event delivered is the first one after this position. */
  after: Position;
  streamId?: string;
  types?: ReadonlySet<string>;
  pageSize?: number;
  /** Re-read even without a wake-up, for writers this process does not hear. */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** The feed completes at this moment (a token's expiry, say), as if `signal` had aborted. */
  endsAt?: Date;
}>;

// setTimeout fires at once for delays past ~24.8 days; a later end is left to `signal`.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Every event after a position, then live, as one cursor over the store:
 * replay and live tail are the same loop, so there is no gap or duplicate at
 * the switch. A slow consumer only slows its own loop; nothing is buffered
 * for it beyond one page.
 *
 * `return()` aborts a pending wait at once. A plain async generator would
 * only notice it at its next `yield`, which for a quiet stream may be never.
 */
export function followEvents(store: EventReader, wake: WakeSignal, options: FollowOptions): AsyncIterableIterator<StoredEvent> {
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  // A timer cleared when the feed ends, not AbortSignal.timeout: Node 20 can collect a timeout
  // signal held only through AbortSignal.any before it fires (nodejs/node#57736), and a feed
  // meant to end at its token's expiry then never ends.
  const remainingMs = options.endsAt === undefined ? undefined : Math.max(0, options.endsAt.getTime() - Date.now());
  const deadline = remainingMs === undefined || remainingMs > MAX_TIMER_MS ? undefined : setTimeout(onOuterAbort, remainingMs).unref();
  const events = tail(store, wake, { ...options, signal: stop.signal });
  const finish = () => {
    stop.abort();
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onOuterAbort);
  };
  return {
    next: async () => {
      const result = await events.next();
      if (result.done) finish();
      return result;
    },
    return: async () => {
      finish();
      return events.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* tail(store: EventReader, wake: WakeSignal, options: FollowOptions): AsyncGenerator<StoredEvent, void, undefined> {
  const { streamId, types, pageSize = 100, pollIntervalMs = 1000, signal } = options;
  let cursor = options.after;
  while (!signal?.aborted) {
    const seen = wake.version();
    const page = await store.readAll({ after: cursor, limit: pageSize, ...(streamId === undefined ? {} : { streamId }) });
    for (const event of page) {
      cursor = event.position;
      if (!types || types.has(event.type)) yield event;
      if (signal?.aborted) return;
    }
    if (page.length < pageSize) await wake.wait(seen, pollIntervalMs, signal);
  }
}
