import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { send, startLoad, type Outcome } from './mutation-load.js';
import { checkStore, readEventLog, type LogSource } from './store-check.js';

/**
 * Crash safety on each store (SQLite with the default DURABILITY=process, and
 * PostgreSQL): the real server as a child process, 16 clients mutating
 * concurrently, SIGKILL at several points (after the 1st, 40th, 150th and
 * 400th acknowledgement of a round, each with 15 other mutations in flight),
 * restart on the same store, and check the store and the read model against
 * everything the clients were told.
 */
describe.each([
  { store: 'SQLite', postgres: false },
  { store: 'PostgreSQL', postgres: true },
])('SIGKILL under concurrent mutations ($store)', ({ postgres }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-crash-'));
  const running: ServerProcess[] = [];
  let source: LogSource = { kind: 'sqlite', dataDir };
  let env: Record<string, string> = {};
  let dropDatabase = async () => {};
  beforeEach(async () => {
    if (!postgres) return;
    const database = await createTestDatabase('crash');
    source = { kind: 'postgres', url: database.url };
    env = { DATABASE_URL: database.url };
    dropDatabase = database.drop;
  });
  afterEach(async () => {
    for (const server of running.splice(0)) server.child.kill('SIGKILL');
    await dropDatabase();
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  const spawn = async () => {
    const server = await spawnServer(dataDir, env);
    running.push(server);
    return server;
  };

  it.skipIf(postgres && postgresUnavailable !== null)('keeps every acknowledged mutation, exactly once in the log and the read model, at every kill point', { timeout: 240_000 }, async () => {
    const killPoints = [1, 40, 150, 400];
    const outcomes: Outcome[] = [];
    let unanswered = 0;
    let server = await spawn();

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
      running.splice(running.indexOf(victim), 1);
      expect(load.acknowledged()).toBeGreaterThanOrEqual(killAfter);
      // Every client ended on a mutation the server did not answer.
      expect(sent.filter((o) => o.status === 'unanswered')).toHaveLength(16);
      unanswered += 16;
      outcomes.push(...sent);

      server = await spawn();
      await checkStore(server.url, source, outcomes);

      // Retrying an unanswered mutation with its key gives its one outcome: the first one if it
      // had committed before the kill, a fresh one otherwise; either way it is then in the log once.
      const before = (await readEventLog(source)).events;
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status !== 'unanswered') continue;
        const retried = await send(server.url, outcome.mutation);
        expect(retried.status, JSON.stringify(retried)).toBe('acknowledged');
        const committed = before.find((event) => event.key === outcome.mutation.key);
        if (committed && retried.status === 'acknowledged') expect(retried.version).toBe(committed.streamVersion);
        outcomes[index] = retried;
      }
      await checkStore(server.url, source, outcomes);
    }
    expect(unanswered).toBe(16 * killPoints.length);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
