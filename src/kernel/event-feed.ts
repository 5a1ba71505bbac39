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
  /** Called each time the feed has handed out every event in the log and waits for more: it has caught up. */
  onCaughtUp?: () => void;
}>;

// setTimeout fires at once for delays past ~24.8 days; a later end is left to `signal`.
const MAX_TIMER_MS = 2 ** 31 - 1;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** What a feed was opened with: enough to open the same feed again from another position. */
export type FeedOrigin = Readonly<{ store: EventReader; wake: WakeSignal; options: FollowOptions }>;

const origins = new WeakMap<object, FeedOrigin>();

/**
 * How `feed` was opened, if `followEvents` made it. A transport that serves
 * many subscribers of one selection (server/subscription-fanout.ts) reads one
 * shared feed instead of each subscriber's own: a subscription's resolver
 * still decides what it follows, and the transport learns it here.
 */
export function feedOrigin(feed: unknown): FeedOrigin | undefined {
  return typeof feed === 'object' && feed !== null ? origins.get(feed) : undefined;
}

/**
 * Every event after a position, then live, as one cursor over the store:
 * replay and live tail are the same loop, so there is no gap or duplicate at
 * the switch. A slow consumer only slows its own loop; nothing is buffered
 * for it beyond one page.
 *
 * Written as a plain iterator, not an async generator, for two reasons.
 * `return()` must end a pending wait at once; a generator would only notice
 * at its next `yield`, which for a quiet stream may be never. And with a
 * thousand subscribers every event passes through a thousand feeds, so an
 * event already in the page is handed out without awaiting anything.
 */
export function followEvents(store: EventReader, wake: WakeSignal, options: FollowOptions): AsyncIterableIterator<StoredEvent> {
  const { streamId, types, pageSize = 100, pollIntervalMs = 1000, signal } = options;
  let cursor = options.after;
  let page: readonly StoredEvent[] = [];
  let index = 0;
  // The last page was short: the feed has caught up and waits for news before reading again.
  let caughtUp = false;
  let seen = 0;
  let ended = false;
  // Ends the wait in progress, if any: set for the length of each wait.
  let interrupt: (() => void) | undefined;

  // A timer cleared when the feed ends, not AbortSignal.timeout: Node 20 can collect a timeout
  // signal held only through AbortSignal.any before it fires (nodejs/node#57736), and a feed
  // meant to end at its token's expiry then never ends.
  const remainingMs = options.endsAt === undefined ? undefined : Math.max(0, options.endsAt.getTime() - Date.now());
  const deadline = remainingMs === undefined || remainingMs > MAX_TIMER_MS ? undefined : setTimeout(() => end(), remainingMs).unref();
  let withdrawFromSignal: (() => void) | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(deadline);
    withdrawFromSignal?.();
    interrupt?.();
  };
  if (signal?.aborted) end();
  else if (signal) withdrawFromSignal = onAbort(signal, end);

  const fromPage = (): IteratorResult<StoredEvent> | undefined => {
    while (index < page.length) {
      const event = page[index++]!;
      cursor = event.position;
      if (!types || types.has(event.type)) return { done: false, value: event };
    }
    return undefined;
  };
  const read = async (): Promise<IteratorResult<StoredEvent>> => {
    try {
      while (!ended) {
        // Not `wait` with an abort signal: an EventTarget listener per wait costs more than the wait.
        // Not a race against one "stopped" promise either: each race would leave a reaction on it for the feed's life.
        if (caughtUp) {
          options.onCaughtUp?.();
          await new Promise<void>((resolve) => {
            const withdraw = wake.onChange(seen, pollIntervalMs, resolve);
            interrupt = () => {
              withdraw();
              resolve();
            };
          });
          interrupt = undefined;
        }
        if (ended) break;
        seen = wake.version();
        page = await store.readAll({ after: cursor, limit: pageSize, ...(streamId === undefined ? {} : { streamId }) });
        index = 0;
        caughtUp = page.length < pageSize;
        if (ended) break;
        const next = fromPage();
        if (next) return next;
      }
      return DONE;
    } catch (error) {
      end();
      throw error;
    }
  };
  const step = () => (ended ? DONE : (fromPage() ?? read()));

  // Consumers normally await each `next()`; one that does not is served in order behind the read in flight.
  let reading: Promise<IteratorResult<StoredEvent>> | undefined;
  const settled = (promise: Promise<IteratorResult<StoredEvent>>) => () => {
    if (reading === promise) reading = undefined;
  };
  const feed: AsyncIterableIterator<StoredEvent> = {
    next: () => {
      const result = reading ? reading.then(step) : step();
      if (!(result instanceof Promise)) return Promise.resolve(result);
      reading = result;
      result.then(settled(result), settled(result));
      return result;
    },
    return: () => {
      end();
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  origins.set(feed, { store, wake, options });
  return feed;
}

const liveFeeds = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Every feed of a server ends on the same shutdown signal. One listener per
 * signal ends them all: a listener per feed would pass Node's limit of 10 at
 * the 11th subscription and print MaxListenersExceededWarning, although
 * nothing leaks. Returns the feed's withdrawal, for when it ends first.
 */
function onAbort(signal: AbortSignal, end: () => void): () => void {
  let ends = liveFeeds.get(signal);
  if (!ends) {
    const registered = new Set<() => void>();
    liveFeeds.set(signal, registered);
    const endAll = () => {
      for (const endFeed of [...registered]) endFeed();
      registered.clear();
    };
    signal.addEventListener('abort', endAll, { once: true });
    ends = registered;
  }
  const feeds = ends;
  feeds.add(end);
  return () => void feeds.delete(end);
}
