import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { createUpcasting, eventSchema, UnreadableEvent, upcaster, withUpcasting, type EventVersions } from '../../src/kernel/upcasting.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { userEventVersions } from '../../src/users/event-schemas.js';

const users = createUpcasting([userEventVersions]);

const stored = (over: Partial<StoredEvent> & Pick<StoredEvent, 'type' | 'data' | 'schemaVersion'>): StoredEvent => ({
  position: '0001' as Position,
  streamId: 'user-u1',
  streamVersion: 1,
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z' },
  ...over,
});
const v1Created = stored({ type: 'UserCreated', schemaVersion: 1, data: { userId: 'u1', username: 'ada', email: 'ada@example.com' } });

describe('the users module’s upcasters', () => {
  it('reads a stored UserCreated v1 as the newest version, created by no one known', () => {
    expect(users.upcast(v1Created)).toEqual({
      ...v1Created,
      schemaVersion: 3,
      data: { userId: 'u1', username: 'ada', email: 'ada@example.com', createdBy: null },
    });
  });

  it('leaves the stored event alone: a copy is upcast, not the original', () => {
    users.upcast(v1Created);
    expect(v1Created.data).toEqual({ userId: 'u1', username: 'ada', email: 'ada@example.com' });
  });

  it('returns events already at the newest version as they are, and events of undeclared types as stored', () => {
    const v3 = stored({ type: 'UserCreated', schemaVersion: 3, data: { userId: 'u1', username: 'ada', email: 'a@b.c', createdBy: 'admin' } });
    expect(users.upcast(v3)).toBe(v3);
    const updated = stored({ type: 'UserUpdated', schemaVersion: 2, data: { userId: 'u1', username: 'ada2' } });
    expect(users.upcast(updated)).toBe(updated);
    const other = stored({ type: 'TallyOpened', schemaVersion: 7, data: {} });
    expect(users.upcast(other)).toBe(other);
  });

  it('writes new events at each type’s newest version', () => {
    expect(users.currentVersionOf('UserCreated')).toBe(3);
    expect(users.currentVersionOf('UserUpdated')).toBe(2);
    expect(users.currentVersionOf('UserErased')).toBe(1);
    expect(users.currentVersionOf('TallyOpened')).toBeUndefined();
  });

  it('refuses a version newer than it knows, naming the event type and the version, and never guesses', () => {
    const future = stored({ type: 'UserCreated', schemaVersion: 99, data: { userId: 'u1', whatever: true } });
    expect(() => users.upcast(future)).toThrow(UnreadableEvent);
    expect(() => users.upcast(future)).toThrow(/UserCreated v99 .*this server knows UserCreated up to v3/);
  });

  it('reads the personal fields of an erased user (null below upcasting, at any stored version) as null, never as unreadable', () => {
    const shreddedV1 = stored({ type: 'UserCreated', schemaVersion: 1, data: { userId: 'u1', username: null, email: null } });
    expect(users.upcast(shreddedV1).data).toEqual({ userId: 'u1', username: null, email: null, createdBy: null });
    const shreddedV2 = stored({ type: 'UserCreated', schemaVersion: 2, data: { userId: 'u1', username: null, email: null, createdBy: 'root' } });
    expect(users.upcast(shreddedV2).data).toEqual({ userId: 'u1', username: null, email: null, createdBy: 'root' });
    const shreddedUpdate = stored({ type: 'UserUpdated', schemaVersion: 1, data: { userId: 'u1', email: null } });
    expect(users.upcast(shreddedUpdate)).toMatchObject({ schemaVersion: 2, data: { userId: 'u1', email: null } });
  });

  it('refuses an upcast whose result does not fit the newest version', () => {
    const broken = stored({ type: 'UserCreated', schemaVersion: 1, data: { userId: 'u1', username: 'ada' } });
    expect(() => users.upcast(broken)).toThrow(/UserCreated v1 .*does not fit that version/);
  });
});

/** A type at three versions, whose upcaster from v2 throws on the data of one user. */
const a1 = eventSchema('Noted', 1, z.object({ text: z.string() }));
const a2 = eventSchema('Noted', 2, z.object({ text: z.string(), by: z.string().nullable() }));
const a3 = eventSchema('Noted', 3, z.object({ lines: z.array(z.string()), by: z.string().nullable() }));
const noted: EventVersions = {
  schemas: [a3, a1, a2],
  upcasters: [
    upcaster(a1, a2, (data) => ({ ...data, by: null })),
    upcaster(a2, a3, ({ text, by }) => {
      if (text === 'poison') throw new Error('cannot split "poison"');
      return { lines: text.split('\n'), by };
    }),
  ],
};

describe('upcasting', () => {
  const noting = createUpcasting([noted]);

  it('chains upcasters from the stored version to the newest, one version at a time', () => {
    const read = noting.upcast(stored({ type: 'Noted', schemaVersion: 1, data: { text: 'a\nb' } }));
    expect(read).toMatchObject({ schemaVersion: 3, data: { lines: ['a', 'b'], by: null } });
    expect(noting.upcast(stored({ type: 'Noted', schemaVersion: 2, data: { text: 'c', by: 'me' } })).data).toEqual({ lines: ['c'], by: 'me' });
  });

  it('reports a failing upcaster as UnreadableEvent, with the event as stored and the cause', () => {
    const poison = stored({ type: 'Noted', schemaVersion: 1, data: { text: 'poison' } });
    const error = (() => {
      try {
        noting.upcast(poison);
      } catch (thrown) {
        return thrown;
      }
      throw new Error('expected the upcast to fail');
    })();
    expect(error).toBeInstanceOf(UnreadableEvent);
    expect((error as UnreadableEvent).event).toBe(poison);
    expect((error as UnreadableEvent).message).toMatch(/Noted v1 .*upcaster from v2 failed: cannot split "poison"/);
  });

  it('refuses declarations that leave a gap, repeat a version, or miss an upcaster', () => {
    expect(() => createUpcasting([{ schemas: [a1, a3], upcasters: [] }])).toThrow(/must be 1, 2/);
    expect(() => createUpcasting([{ schemas: [a1], upcasters: [] }, { schemas: [a1], upcasters: [] }])).toThrow(/none twice/);
    expect(() => createUpcasting([{ schemas: [a1, a2], upcasters: [] }])).toThrow(/exactly one upcaster from v1/);
    expect(() => createUpcasting([{ schemas: [a1], upcasters: [noted.upcasters[0]!] }])).toThrow(/no newer declared version/);
    expect(() => upcaster(a1, a3, () => ({ lines: [], by: null }))).toThrow(/consecutive versions/);
  });
});

describe('an event log read through upcasting', () => {
  const open = () => {
    const raw = createMemoryEventStore();
    return { raw, log: withUpcasting(raw, createUpcasting([noted])) };
  };
  const append = (log: ReturnType<typeof open>['log'], streamId: string, events: { data: object; schemaVersion?: number }[]) =>
    log.append({
      streamId,
      expectedVersion: 0,
      events: events.map(({ data, schemaVersion }) => ({ type: 'Noted', data, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' }, ...(schemaVersion ? { schemaVersion } : {}) })),
    });

  it('stamps new events with their type’s newest version, and undeclared types with 1', async () => {
    const { raw, log } = open();
    await append(log, 'n-1', [{ data: { lines: ['x'], by: null } }]);
    await log.append({ streamId: 'o-1', expectedVersion: 0, events: [{ type: 'Other', data: {}, metadata: { occurredAt: 'now' } }] });
    expect((await raw.readStream('n-1')).events[0]!.schemaVersion).toBe(3);
    expect((await raw.readStream('o-1')).events[0]!.schemaVersion).toBe(1);
  });

  it('upcasts what readStream, readStreamFrom, readAll and readPage return, and never rewrites the stored event', async () => {
    const { raw, log } = open();
    await append(log, 'n-1', [{ data: { text: 'old' }, schemaVersion: 1 }]);
    expect((await log.readStream('n-1')).events[0]).toMatchObject({ schemaVersion: 3, data: { lines: ['old'], by: null } });
    expect((await log.readAll({ after: LOG_START, limit: 10 }))[0]).toMatchObject({ schemaVersion: 3, data: { lines: ['old'], by: null } });
    expect((await log.readStreamFrom('n-1', { fromVersion: 1, limit: 10 }))[0]).toMatchObject({ schemaVersion: 3, data: { lines: ['old'], by: null } });
    expect((await log.readPage({ direction: 'backward', limit: 10, streamId: 'n-1' }))[0]).toMatchObject({
      schemaVersion: 3,
      data: { lines: ['old'], by: null },
    });
    expect((await raw.readStream('n-1')).events[0]).toMatchObject({ schemaVersion: 1, data: { text: 'old' } });
  });

  it('reads the whole log up to an unreadable event, then fails on it: nothing after it is skipped', async () => {
    const { log } = open();
    await append(log, 'n-1', [{ data: { text: 'fine' }, schemaVersion: 1 }]);
    await append(log, 'n-2', [{ data: { text: 'poison' }, schemaVersion: 1 }]);
    await append(log, 'n-3', [{ data: { lines: [], by: null } }]);
    const before = await log.readAll({ after: LOG_START, limit: 10 });
    expect(before.map((event) => event.streamId)).toEqual(['n-1']);
    await expect(log.readAll({ after: before[0]!.position, limit: 10 })).rejects.toThrow(/Noted v1 \(stream n-2, version 1\)/);
    await expect(log.readStream('n-2')).rejects.toBeInstanceOf(UnreadableEvent);
  });
});
