import { describe, expect, it } from 'vitest';
import { send, startLoad, type Outcome } from './mutation-load.js';
import { checkStore, readEventLog } from './store-check.js';
import { STORES, storeUnderTest } from './store-under-test.js';

/**
 * Crash safety on each store (SQLite with the default DURABILITY=process, and
 * PostgreSQL): the real server as a child process, 16 clients mutating
 * concurrently, SIGKILL at several points (after the 1st, 40th, 150th and
 * 400th acknowledgement of a round, each with 15 other mutations in flight),
 * restart on the same store, and check the store and the read model against
 * everything the clients were told.
 */
describe.each(STORES)('SIGKILL under concurrent mutations ($store)', ({ postgres }) => {
  const store = storeUnderTest('crash', postgres);

  it.skipIf(store.skip)('keeps every acknowledged mutation, exactly once in the log and the read model, at every kill point', { timeout: 240_000 }, async () => {
    const killPoints = [1, 40, 150, 400];
    const outcomes: Outcome[] = [];
    let unanswered = 0;
    let server = await store.spawn();

    for (const [round, killAfter] of killPoints.entries()) {
      const victim = server;
      const load = startLoad(victim.url, {
        clients: 16,
        prefix: `r${round}`,
        onAcknowledged: (count) => {
          if (count === killAfter) victim.child.kill('SIGKILL');
        },
      });
      const sent = await load.done;
      expect(await victim.exited).toBe('SIGKILL');
      expect(load.acknowledged()).toBeGreaterThanOrEqual(killAfter);
      // Every client ended on a mutation the server did not answer.
      expect(sent.filter((o) => o.status === 'unanswered')).toHaveLength(16);
      unanswered += 16;
      outcomes.push(...sent);

      server = await store.spawn();
      await checkStore(server.url, store.source(), outcomes);

      // Retrying an unanswered mutation with its key gives its one outcome: the first one if it
      // had committed before the kill, a fresh one otherwise; either way it is then in the log once.
      const before = (await readEventLog(store.source())).events;
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status !== 'unanswered') continue;
        const retried = await send(server.url, outcome.mutation);
        expect(retried.status, JSON.stringify(retried)).toBe('acknowledged');
        const committed = before.find((event) => event.key === outcome.mutation.key);
        if (committed && retried.status === 'acknowledged') expect(retried.version).toBe(committed.streamVersion);
        outcomes[index] = retried;
      }
      await checkStore(server.url, store.source(), outcomes);
    }
    expect(unanswered).toBe(16 * killPoints.length);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
