/**
 * The multipart subscription processor in-process, on a schema whose
 * subscription stays quiet: heartbeats, a stream that errors, and the
 * iterator being ended when the client goes away.
 */
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useMultipartSubscriptions } from '../../src/server/multipart-subscriptions.js';
import { openMultipartSubscription } from '../support/multipart.js';
import { waitUntil } from '../support/wait.js';

function quietApp() {
  const ended: string[] = [];
  /**
   * Yields one event, then stays quiet until the client leaves (or throws, with `fail`).
   * A plain iterator: an async generator parked in an `await` could not be ended from outside.
   */
  function events(name: string, fail: boolean): AsyncIterableIterator<{ event: string }> {
    let sent = false;
    let release: ((result: IteratorResult<{ event: string }>) => void) | undefined;
    const done = { done: true as const, value: undefined };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => {
        if (!sent) {
          sent = true;
          return Promise.resolve({ done: false, value: { event: name } });
        }
        if (fail) return Promise.reject(new Error('the feed broke'));
        return new Promise((resolve) => (release = resolve));
      },
      return: () => {
        ended.push(name);
        release?.(done);
        return Promise.resolve(done);
      },
    };
  }
  const schema = createSchema({
    typeDefs: 'type Query { ok: Boolean } type Subscription { event(name: String!, fail: Boolean): String }',
    resolvers: { Subscription: { event: { subscribe: (_: unknown, args: { name: string; fail?: boolean }) => events(args.name, args.fail ?? false) } } },
  });
  const app = createYoga({ schema, logging: false, plugins: [useMultipartSubscriptions({ heartbeatMs: 10 })] });
  return { ended, fetch: (url: string, init: RequestInit) => Promise.resolve(app.fetch(url, init)) };
}

describe('multipart subscription processor', () => {
  it('sends {} heartbeats while the stream is quiet, and ends the subscription when the client aborts', async () => {
    const app = quietApp();
    const stream = await openMultipartSubscription('http://app/graphql', { query: 'subscription { event(name: "quiet") }' }, undefined, app.fetch);
    await stream.waitFor(() => stream.heartbeats() >= 2, 'two heartbeats');
    expect(stream.payloads()).toEqual([{ payload: { data: { event: 'quiet' } } }]);
    expect(app.ended).toEqual([]);
    stream.abort();
    await waitUntil(() => app.ended.includes('quiet'), 'the subscription to end');
  });

  it('sends an error from the stream as a payload with errors, masked, then closes the body', async () => {
    const app = quietApp();
    const stream = await openMultipartSubscription('http://app/graphql', { query: 'subscription { event(name: "broken", fail: true) }' }, undefined, app.fetch);
    await stream.ended();
    expect(stream.closed()).toBe(true);
    const [first, second] = stream.payloads() as { payload: { data?: unknown; errors?: { message: string; extensions?: unknown }[] } }[];
    expect(first).toEqual({ payload: { data: { event: 'broken' } } });
    expect(second?.payload.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(second)).not.toContain('the feed broke');
    expect(JSON.stringify(second)).not.toContain('"http"');
  });
});
