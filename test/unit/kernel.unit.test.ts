import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createCommandBus, validation, type CommandOutcome } from '../../src/kernel/command-bus.js';
import { followEvents } from '../../src/kernel/event-feed.js';
import { hashCommand } from '../../src/kernel/idempotency.js';
import { createKeyedLock } from '../../src/kernel/keyed-lock.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import type { EventReader } from '../../src/kernel/shared-reads.js';
import { createStreamStateCache } from '../../src/kernel/stream-state-cache.js';
import { createWakeSignal } from '../../src/kernel/wake-signal.js';
import { createUserRules } from '../../src/users/input-rules.js';

describe('wake signal', () => {
  it('does not lose a notification that arrives between reading the version and waiting', async () => {
    const signal = createWakeSignal();
    const seen = signal.version();
    signal.notify();
    // Resolves at once although nobody notifies again; a 60 s timeout would hang the test otherwise.
    await signal.wait(seen, 60_000);
    expect(signal.version()).toBe(seen + 1);
  });

  it('wakes every waiter on notify', async () => {
    const signal = createWakeSignal();
    const seen = signal.version();
    const woken: number[] = [];
    const waits = [1, 2, 3].map((n) => signal.wait(seen, 60_000).then(() => woken.push(n)));
    signal.notify();
    await Promise.all(waits);
    expect(woken.sort()).toEqual([1, 2, 3]);
  });

  it('returns on abort and on timeout', async () => {
    const signal = createWakeSignal();
    const abort = new AbortController();
    const waiting = signal.wait(signal.version(), 60_000, abort.signal);
    abort.abort();
    await waiting;
    await signal.wait(signal.version(), 1);
    expect(signal.version()).toBe(0);
  });

  it('times each waiter out at its own deadline, whichever was armed first', async () => {
    const signal = createWakeSignal();
    const seen = signal.version();
    const order: string[] = [];
    const long = signal.wait(seen, 300).then(() => order.push('long'));
    const short = signal.wait(seen, 10).then(() => order.push('short'));
    await short;
    expect(order).toEqual(['short']);
    await long;
    expect(order).toEqual(['short', 'long']);
  });
});

describe('keyed lock', () => {
  it('runs tasks of one key one at a time, in order, and keeps going after a failure', async () => {
    const withLock = createKeyedLock();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`${name}:start`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`${name}:end`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([withLock('k', task('a')), withLock('k', task('b', true)), withLock('k', task('c'))]);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('runs tasks of different keys side by side', async () => {
    const withLock = createKeyedLock();
    let release: () => void = () => {};
    const blocked = withLock('a', () => new Promise<void>((resolve) => (release = resolve)));
    // Would deadlock if key "b" waited for key "a".
    expect(await withLock('b', async () => 'b done')).toBe('b done');
    release();
    await blocked;
  });
});

describe('stream state cache', () => {
  it('keeps at most its capacity, dropping the stream used least recently', () => {
    const cache = createStreamStateCache<string>(2);
    cache.set('a', { state: 'A', version: 1 });
    cache.set('b', { state: 'B', version: 1 });
    expect(cache.get('a')).toEqual({ state: 'A', version: 1 });
    cache.set('c', { state: 'C', version: 1 });
    expect(cache.size()).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.state).toBe('A');
    expect(cache.get('c')?.state).toBe('C');
  });

  it('replaces a stream it knows, and remembers nothing with capacity 0', () => {
    const cache = createStreamStateCache<string>(2);
    cache.set('a', { state: 'A1', version: 1 });
    cache.set('a', { state: 'A2', version: 2 });
    expect(cache.size()).toBe(1);
    expect(cache.get('a')).toEqual({ state: 'A2', version: 2 });
    const none = createStreamStateCache<string>(0);
    none.set('a', { state: 'A', version: 1 });
    expect(none.get('a')).toBeUndefined();
  });
});

describe('command hash', () => {
  it('ignores key order and undefined fields but not values or types', () => {
    const base = hashCommand({ type: 'CreateUser', data: { username: 'a', email: 'e' } });
    expect(hashCommand({ type: 'CreateUser', data: { email: 'e', username: 'a' } })).toBe(base);
    expect(hashCommand({ type: 'CreateUser', data: { email: 'e', username: 'a', userId: undefined } })).toBe(base);
    expect(hashCommand({ type: 'CreateUser', data: { email: 'e', username: 'b' } })).not.toBe(base);
    expect(hashCommand({ type: 'UpdateUser', data: { email: 'e', username: 'a' } })).not.toBe(base);
    expect(hashCommand({ type: 'X', data: { n: 1 } })).not.toBe(hashCommand({ type: 'X', data: { n: '1' } }));
    expect(hashCommand({ type: 'X', data: { a: { b: 1, c: 2 } } })).toBe(hashCommand({ type: 'X', data: { a: { c: 2, b: 1 } } }));
  });
});

describe('command bus', () => {
  const clock = () => new Date();
  const ok: CommandOutcome = { ok: true, value: { streamId: 's', version: 1, position: '1' as Position, changed: true } };

  it('runs middlewares in order around the handler and passes normalised data', async () => {
    const order: string[] = [];
    const seen: unknown[] = [];
    const bus = createCommandBus({
      middlewares: [
        async (envelope, _registration, next) => {
          order.push('outer');
          return next(envelope);
        },
        validation,
      ],
      clock,
      newId: randomUUID,
    });
    bus.register('CreateUser', {
      schema: createUserRules,
      handle: async ({ command }) => {
        order.push('handler');
        seen.push(command.data);
        return ok;
      },
    });
    expect(await bus.execute({ type: 'CreateUser', data: { username: ' bob ', email: 'b@example.com' } })).toEqual(ok);
    expect(order).toEqual(['outer', 'handler']);
    expect(seen).toEqual([{ username: 'bob', email: 'b@example.com' }]);
  });

  it('does not call the handler for invalid data', async () => {
    const bus = createCommandBus({ middlewares: [validation], clock, newId: randomUUID });
    let called = false;
    bus.register('CreateUser', {
      schema: createUserRules,
      handle: async () => {
        called = true;
        return ok;
      },
    });
    const outcome = await bus.execute({ type: 'CreateUser', data: { username: 'b', email: 'x' } });
    expect(outcome).toMatchObject({ ok: false, error: { type: 'ValidationError', fields: [{ field: 'username' }, { field: 'email' }] } });
    expect(called).toBe(false);
  });

  it('refuses registering a command type twice and names unknown types', async () => {
    const bus = createCommandBus({ clock, newId: randomUUID });
    bus.register('A', { handle: async () => ok });
    expect(() => bus.register('A', { handle: async () => ok })).toThrow(/"A" is already registered/);
    await expect(bus.execute({ type: 'B', data: {} })).rejects.toThrow('No handler is registered for command "B" (known: A)');
  });
});

describe('event feed', () => {
  const event = (n: number) =>
    ({ type: 'Noted', data: {}, position: String(n).padStart(4, '0') as Position, streamId: 's', streamVersion: n, schemaVersion: 1, metadata: {} }) as StoredEvent;
  const logOf = (events: StoredEvent[]): EventReader => ({
    readAll: async ({ after, limit }) => events.filter((e) => e.position > after).slice(0, limit),
  });

  it('serves next() calls made without waiting in order, across page boundaries', async () => {
    const log = Array.from({ length: 5 }, (_, i) => event(i + 1));
    const feed = followEvents(logOf(log), createWakeSignal(), { after: LOG_START, pageSize: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, () => feed.next()));
    expect(results.map((result) => result.value?.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    await feed.return!();
  });

  it('says it caught up only once it has handed out every event and waits for more, not when it reads the last page', async () => {
    const log = Array.from({ length: 3 }, (_, i) => event(i + 1));
    let caughtUp = 0;
    const feed = followEvents(logOf(log), createWakeSignal(), { after: LOG_START, pageSize: 2, pollIntervalMs: 60_000, onCaughtUp: () => (caughtUp += 1) });
    for (let version = 1; version <= 3; version++) {
      expect((await feed.next()).value?.streamVersion).toBe(version);
      expect(caughtUp).toBe(0);
    }
    const fourth = feed.next();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(caughtUp).toBe(1);
    await feed.return!();
    expect(await fourth).toEqual({ done: true, value: undefined });
  });

  it('wakes on notify for an event appended while it waits, and return() ends a wait at once', async () => {
    const log = [event(1)];
    const wake = createWakeSignal();
    const feed = followEvents(logOf(log), wake, { after: LOG_START, pollIntervalMs: 60_000 });
    expect((await feed.next()).value?.streamVersion).toBe(1);
    const second = feed.next();
    log.push(event(2));
    wake.notify();
    expect((await second).value?.streamVersion).toBe(2);
    const third = feed.next();
    await feed.return!();
    expect(await third).toEqual({ done: true, value: undefined });
    expect(await feed.next()).toEqual({ done: true, value: undefined });
  });
});

describe('event feed end', () => {
  const quietStore: EventReader = { readAll: async () => [] };

  it('completes at endsAt while waiting on a quiet log, with no wake-up and no poll in between', async () => {
    const feed = followEvents(quietStore, createWakeSignal(), { after: LOG_START, pollIntervalMs: 60_000, endsAt: new Date(Date.now() + 50) });
    expect(await feed.next()).toEqual({ done: true, value: undefined });
  });

  it('completes at once when endsAt has passed, and runs on when it lies beyond what a timer can hold', async () => {
    const past = followEvents(quietStore, createWakeSignal(), { after: LOG_START, endsAt: new Date(Date.now() - 1000) });
    expect(await past.next()).toEqual({ done: true, value: undefined });
    const shutdown = new AbortController();
    const far = followEvents(quietStore, createWakeSignal(), { after: LOG_START, pollIntervalMs: 10, signal: shutdown.signal, endsAt: new Date(Date.now() + 40 * 86_400_000) });
    const next = far.next();
    // Still waiting after several polls: a 40-day delay must not overflow into an immediate end.
    const settled = await Promise.race([next.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 100))]);
    expect(settled).toBe('waiting');
    shutdown.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });
});

describe('event feeds on one shutdown signal', () => {
  const quietStore: EventReader = { readAll: async () => [] };

  it('share one abort listener however many feeds run, and all end when it fires', async () => {
    const shutdown = new AbortController();
    const feeds = Array.from({ length: 50 }, () => followEvents(quietStore, createWakeSignal(), { after: LOG_START, pollIntervalMs: 60_000, signal: shutdown.signal }));
    const pending = feeds.map((feed) => feed.next());
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    // Feeds that end first leave nothing behind on the signal.
    await Promise.all(feeds.slice(0, 10).map((feed) => feed.return!()));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort();
    expect(await Promise.all(pending)).toEqual(feeds.map(() => ({ done: true, value: undefined })));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('a feed started on an aborted signal ends at once', async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const feed = followEvents(quietStore, createWakeSignal(), { after: LOG_START, pollIntervalMs: 60_000, signal: shutdown.signal });
    expect(await feed.next()).toEqual({ done: true, value: undefined });
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });
});
