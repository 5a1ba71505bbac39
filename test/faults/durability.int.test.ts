import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules.js';
import { openSqlite, synchronousOf, type Durability } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { openSystem } from '../../src/system.js';

/**
 * What each DURABILITY setting asks SQLite for. That an acknowledged write
 * survives SIGKILL under the default is shown for real in crash.e2e.test.ts;
 * power loss cannot be simulated here, so for `fsync` this checks that every
 * commit is made with synchronous=FULL (SQLite then fsyncs the WAL per commit).
 */
describe('DURABILITY', () => {
  const dirs: string[] = [];
  const dir = () => {
    const created = mkdtempSync(join(tmpdir(), 'cqrs-graphql-durability-'));
    dirs.push(created);
    return created;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const expected: Record<Durability, string> = { process: 'NORMAL', fsync: 'FULL' };

  for (const durability of ['process', 'fsync'] as const) {
    it(`${durability}: opens SQLite in WAL mode with synchronous=${expected[durability]}`, async () => {
      const db = openSqlite(join(dir(), 'any.db'), { durability });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(synchronousOf(db)).toBe(expected[durability]);
      db.close();

      const store = createSqliteEventStore({ path: join(dir(), 'events.db'), durability });
      expect(store.synchronous()).toBe(expected[durability]);
      await store.close();
    });

    it(`${durability}: the server opens both events.db and read.db with it, and logs what the connections really use`, async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
      const system = await openSystem({
        storage: { kind: 'sqlite', dataDir: dir(), durability },
        modules,
        pollIntervalMs: 1000,
        readYourWritesTimeoutMs: 1000,
        logger,
      });
      await system.close();
      expect(lines.find((line) => line.msg === 'storage opened')).toMatchObject({
        durability,
        synchronous: { events: expected[durability], read: expected[durability] },
      });
    });
  }

  it('defaults to process', async () => {
    const store = createSqliteEventStore({ path: join(dir(), 'events.db') });
    expect(store.synchronous()).toBe('NORMAL');
    await store.close();
  });
});
