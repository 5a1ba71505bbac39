import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { LOG_START } from '../../src/kernel/position.js';
import { sqlitePosition } from '../../src/stores/sqlite/position.js';

describeEventStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-contract-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const event = (type: string, data: object = {}): NewEvent => ({
  type,
  data,
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
});

describe('SQLite event store specifics', () => {
  let dir: string;
  let path: string;
  const open: EventStore[] = [];
  const openStore = (durability?: 'process' | 'fsync') => {
    const store = createSqliteEventStore({ path, ...(durability ? { durability } : {}) });
    open.push(store);
    return store;
  };
  const closeStore = async (store: EventStore) => {
    open.splice(open.indexOf(store), 1);
    await store.close();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'es-sqlite-'));
    path = join(dir, 'events.db');
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps events, unique values and idempotency records across close and reopen', async () => {
    const first = openStore('fsync');
    const appended = await first.append({
      streamId: 'u1',
      expectedVersion: 0,
      events: [event('A', { n: 1 }), event('B', { n: 2 })],
      claims: [{ scope: 'email', value: 'a@x' }],
      idempotency: { key: 'k1', requestHash: 'h', outcome: (a) => ({ position: a.position }) },
    });
    expect(appended.ok).toBe(true);
    const before = await first.readAll({ after: LOG_START, limit: 10 });
    await closeStore(first);

    const reopened = openStore();
    expect(await reopened.readAll({ after: LOG_START, limit: 10 })).toEqual(before);
    expect(await reopened.readStream('u1')).toMatchObject({ version: 2 });
    expect(await reopened.headPosition()).toBe(before.at(-1)!.position);
    expect(await reopened.getIdempotencyRecord('k1')).toEqual({ key: 'k1', requestHash: 'h', outcome: { position: before.at(-1)!.position } });
    const taken = await reopened.append({ streamId: 'u2', expectedVersion: 0, events: [event('A')], claims: [{ scope: 'email', value: 'a@x' }] });
    expect(taken).toMatchObject({ ok: false, error: { type: 'UniqueValueTaken', ownerStreamId: 'u1' } });
    // Positions continue after the reopened head.
    const next = await reopened.append({ streamId: 'u1', expectedVersion: 2, events: [event('C')] });
    expect(next.ok && next.value.position > before.at(-1)!.position).toBe(true);
  });

  it('migrates idempotently: opening the same file twice (also at once) works and records one schema version', async () => {
    const a = openStore();
    await a.append({ streamId: 's', expectedVersion: 0, events: [event('A')] });
    const b = openStore();
    expect(await b.readStream('s')).toMatchObject({ version: 1 });
    await closeStore(a);
    await closeStore(b);
    const c = openStore();
    expect(await c.headPosition()).toBe(sqlitePosition(1));
    await closeStore(c);

    const db = openSqlite(path, { readonly: true });
    try {
      expect(db.prepare('SELECT component, version FROM schema_versions').all()).toEqual([{ component: 'event-store', version: 4 }]);
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema instead of misreading it', async () => {
    await closeStore(openStore());
    const db = openSqlite(path);
    db.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'event-store'").run();
    db.close();
    expect(() => createSqliteEventStore({ path })).toThrow(/schema version 99/);
  });

  it('refuses an append without events and writes nothing', async () => {
    const store = openStore();
    await expect(store.append({ streamId: 's', expectedVersion: 0, events: [] })).rejects.toThrow(/at least one event/);
    expect(await store.headPosition()).toBe(LOG_START);
  });

  it('lets two store instances on one file race: one append per version wins, the other sees the conflict', async () => {
    const a = openStore();
    const b = openStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append({ streamId: 's', expectedVersion: 0, events: [event('Won', { i })] })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error)).toEqual(
      Array.from({ length: 19 }, () => ({ type: 'StreamVersionConflict', streamId: 's', expectedVersion: 0, actualVersion: 1 })),
    );
    expect(await a.readStream('s')).toEqual(await b.readStream('s'));
  });

  it('gives appends through two instances on one file unique, ordered positions', async () => {
    const a = openStore();
    const b = openStore();
    await Promise.all(
      Array.from({ length: 20 }, async (_, s) => {
        const store = s % 2 ? a : b;
        for (let v = 0; v < 3; v++) {
          const r = await store.append({ streamId: `s${s}`, expectedVersion: v, events: [event('Step', { v })] });
          expect(r.ok).toBe(true);
        }
      }),
    );
    const all = await a.readAll({ after: LOG_START, limit: 1000 });
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 60 }, (_, i) => sqlitePosition(i + 1)));
    expect(await b.readAll({ after: LOG_START, limit: 1000 })).toEqual(all);
  });
});
