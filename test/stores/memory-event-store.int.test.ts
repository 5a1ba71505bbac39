import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/kernel/event-store.js';
import { LOG_START } from '../../src/kernel/position.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { memoryPosition } from '../../src/stores/memory/position.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { describeIdempotencyRetentionContract } from './idempotency-retention.contract.js';

describeEventStoreContract('in-memory', async () => {
  const store = createMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

describeIdempotencyRetentionContract('in-memory', async (idempotencyRetention) => {
  const store = createMemoryEventStore({ idempotencyRetention });
  return { store, cleanup: () => store.close() };
});

const event = (type: string, data: object = {}): NewEvent => ({ type, data, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });

describe('in-memory event store specifics', () => {
  it('keeps what was appended apart from the caller\'s objects and from what readers do with theirs', async () => {
    const store = createMemoryEventStore();
    const data = { name: 'first', list: [1] };
    const appended = await store.append({ streamId: 's', expectedVersion: 0, events: [event('A', data)] });
    expect(appended.ok).toBe(true);
    data.name = 'changed';
    data.list.push(2);
    const [read] = await store.readAll({ after: LOG_START, limit: 1 });
    expect(read!.data).toEqual({ name: 'first', list: [1] });
    expect(() => ((read!.data as { name: string }).name = 'reader')).toThrow(TypeError);
    expect((await store.readStream('s')).events[0]!.data).toEqual({ name: 'first', list: [1] });
  });

  it('writes nothing when the idempotency outcome cannot be stored', async () => {
    const store = createMemoryEventStore();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(
      store.append({ streamId: 's', expectedVersion: 0, events: [event('A')], claims: [{ scope: 'x', value: 'v' }], idempotency: { key: 'k', requestHash: 'h', outcome: () => cyclic } }),
    ).rejects.toThrow();
    expect(await store.headPosition()).toBe(LOG_START);
    expect(await store.readStream('s')).toEqual({ version: 0, events: [] });
    expect(await store.getIdempotencyRecord('k')).toBeNull();
    const again = await store.append({ streamId: 'other', expectedVersion: 0, events: [event('A')], claims: [{ scope: 'x', value: 'v' }] });
    expect(again.ok).toBe(true);
  });

  it('refuses an append without events and writes nothing', async () => {
    const store = createMemoryEventStore();
    await expect(store.append({ streamId: 's', expectedVersion: 0, events: [] })).rejects.toThrow(/at least one event/);
    expect(await store.headPosition()).toBe(LOG_START);
  });

  it('tells positions of the other stores apart from its own, and they refuse its positions', async () => {
    const store = createMemoryEventStore();
    expect(store.parsePosition('sqlite:5')).toEqual({ ok: false, error: 'is a position of a SQLite event store; this server uses memory' });
    expect(store.parsePosition('pg:742.1')).toMatchObject({ ok: false, error: expect.stringMatching(/PostgreSQL/) });
    expect(store.parsePosition('mem:1')).toEqual({ ok: true, value: memoryPosition(1) });
    const dir = mkdtempSync(join(tmpdir(), 'mem-positions-'));
    const sqlite = createSqliteEventStore({ path: join(dir, 'events.db') });
    try {
      expect(sqlite.parsePosition(store.formatPosition(memoryPosition(1)))).toEqual({
        ok: false,
        error: 'is a position of a memory event store; this server uses SQLite',
      });
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
