import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandBus, validation, type CommandBus, type CommandOutcome } from '../../src/kernel/command-bus.js';
import type { EventStore } from '../../src/kernel/event-store.js';
import { idempotency } from '../../src/kernel/idempotency.js';
import type { Command, CommandMetadata, StoredEvent } from '../../src/kernel/messages.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { registerUserCommands } from '../../src/users/command-handlers.js';
import { LOG_START } from '../../src/kernel/position.js';
import { v7 as uuidv7 } from 'uuid';
import { sqlitePosition } from '../../src/stores/sqlite/position.js';
import { withUpcasting } from '../../src/kernel/upcasting.js';
import { modules } from '../../src/modules.js';
import { upcastingOf } from '../../src/storage.js';

/** The event log as storage opens it: new events stamped with their version, old ones upcast on read. */
const openEventLog = (path: string) => withUpcasting(createSqliteEventStore({ path }), upcastingOf(modules));

type Outcome = CommandOutcome;

const createUser = (data: { userId?: string; username: string; email: string }): Command => ({ type: 'CreateUser', data });
const updateUser = (data: { userId: string; username?: string; email?: string; expectedVersion?: number }): Command => ({
  type: 'UpdateUser',
  data,
});

function success(outcome: Outcome) {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}
function rejection(outcome: Outcome) {
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as { type: string; message: string } & Record<string, unknown>;
}

describe('user commands through the command bus on SQLite', () => {
  let dir: string;
  let path: string;
  const stores: EventStore[] = [];
  let store: EventStore;
  let bus: CommandBus;

  /** Wired like src/system.ts: validation, then idempotency, then the user handlers. */
  let versionConflicts = 0;
  let appendCalls = 0;
  let readCalls = 0;
  const openBus = (): { store: EventStore; bus: CommandBus } => {
    const s = openEventLog(path);
    stores.push(s);
    // The real store, only counting the optimistic-concurrency conflicts the handlers meet.
    const counting: EventStore = {
      ...s,
      readStream: (streamId) => {
        readCalls += 1;
        return s.readStream(streamId);
      },
      append: async (request) => {
        appendCalls += 1;
        const result = await s.append(request);
        if (!result.ok && result.error.type === 'StreamVersionConflict') versionConflicts += 1;
        return result;
      },
    };
    const b = createCommandBus({ middlewares: [validation, idempotency(s)], clock: () => new Date(), newId: randomUUID });
    registerUserCommands({ commandBus: b, eventLog: counting, newId: uuidv7 });
    return { store: s, bus: b };
  };
  const everything = async (s: EventStore = store): Promise<readonly StoredEvent[]> => s.readAll({ after: LOG_START, limit: 10_000 });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commands-'));
    path = join(dir, 'events.db');
    versionConflicts = 0;
    appendCalls = 0;
    readCalls = 0;
    ({ store, bus } = openBus());
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('happy path', () => {
    it('creates and updates a user, appending normalised events with the command metadata', async () => {
      const now = new Date('2026-03-04T05:06:07.000Z');
      const created = success(
        await bus.execute(createUser({ userId: 'u1', username: '  alice ', email: ' Alice@Example.com ' }), {
          commandId: 'c1',
          now,
          correlationId: 'req-1',
        }),
      );
      expect(created).toEqual({ streamId: 'user-u1', version: 1, position: sqlitePosition(1), changed: true });

      const updated = success(await bus.execute(updateUser({ userId: 'u1', username: 'alice2' }), { commandId: 'c2', now }));
      expect(updated).toEqual({ streamId: 'user-u1', version: 2, position: sqlitePosition(2), changed: true });

      const stream = await store.readStream('user-u1');
      expect(stream.version).toBe(2);
      expect(stream.events.map(({ type, schemaVersion, data, metadata }) => ({ type, schemaVersion, data, metadata }))).toEqual([
        {
          type: 'UserCreated',
          schemaVersion: 3,
          data: { userId: 'u1', username: 'alice', email: 'Alice@Example.com', createdBy: null },
          metadata: { occurredAt: now.toISOString(), commandId: 'c1', correlationId: 'req-1' },
        },
        {
          type: 'UserUpdated',
          schemaVersion: 2,
          data: { userId: 'u1', username: 'alice2' },
          metadata: { occurredAt: now.toISOString(), commandId: 'c2' },
        },
      ]);
    });

    it('generates a UUID v7 id when CreateUser has none', async () => {
      const created = success(await bus.execute(createUser({ username: 'alice', email: 'a@example.com' })));
      expect(created.streamId).toMatch(/^user-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((await store.readStream(created.streamId)).events[0]?.data).toEqual({
        userId: created.streamId.slice('user-'.length),
        username: 'alice',
        email: 'a@example.com',
        createdBy: null,
      });
    });

    it('reports an update that changes nothing as unchanged, at the stream version, appending nothing', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      success(await bus.execute(createUser({ userId: 'u2', username: 'bob', email: 'b@example.com' })));
      const outcome = success(await bus.execute(updateUser({ userId: 'u1', username: 'alice', email: 'A@EXAMPLE.COM' })));
      expect(outcome).toEqual({ streamId: 'user-u1', version: 1, position: sqlitePosition(1), changed: false });
      expect(await everything()).toHaveLength(2);
    });

    it('rejects creating an existing user and updating a missing one', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      expect(rejection(await bus.execute(createUser({ userId: 'u1', username: 'other', email: 'o@example.com' })))).toMatchObject({
        type: 'UserAlreadyExists',
        userId: 'u1',
      });
      expect(rejection(await bus.execute(updateUser({ userId: 'ghost', username: 'boo' })))).toMatchObject({
        type: 'UserNotFound',
        userId: 'ghost',
      });
      expect(await everything()).toHaveLength(1);
      // The rejected create did not claim its email.
      success(await bus.execute(createUser({ userId: 'u2', username: 'other', email: 'o@example.com' })));
    });

    it('rejects an unknown command type with an error naming it', async () => {
      await expect(bus.execute({ type: 'DeleteUniverse', data: {} })).rejects.toThrow(/"DeleteUniverse"/);
      await expect(bus.execute({ type: 'DeleteUniverse', data: {} })).rejects.toThrow(/CreateUser, UpdateUser/);
    });

    it('fills in commandId and now when the caller passes them as undefined', async () => {
      // Partial<CommandMetadata> allows explicit undefined; the bus must still supply its defaults.
      const metadata: Partial<CommandMetadata> = { commandId: undefined, now: undefined, correlationId: 'req-9' };
      const created = await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' }), metadata);
      expect(success(created).version).toBe(1);
      const [event] = (await store.readStream('user-u1')).events;
      expect(event?.metadata.commandId).toEqual(expect.any(String));
      expect(Number.isNaN(Date.parse(event?.metadata.occurredAt ?? ''))).toBe(false);
    });
  });

  describe('validation', () => {
    it('returns field errors and appends nothing', async () => {
      const outcome = await bus.execute(createUser({ userId: 'bad id!', username: 'x', email: 'not-an-email' }));
      expect(outcome).toEqual({
        ok: false,
        error: {
          type: 'ValidationError',
          message: expect.any(String),
          fields: [
            { field: 'userId', message: expect.any(String) },
            { field: 'username', message: 'must be at least 3 characters' },
            { field: 'email', message: 'must be a valid email address' },
          ],
        },
      });
      const update = rejection(await bus.execute(updateUser({ userId: 'u1', expectedVersion: -1 })));
      expect(update).toMatchObject({ type: 'ValidationError', fields: [{ field: 'expectedVersion' }] });
      expect(await store.headPosition()).toBe(LOG_START);
    });

    it('rejects unknown keys and huge input without appending', async () => {
      const unknown = rejection(await bus.execute({ type: 'CreateUser', data: { username: 'alice', email: 'a@example.com', admin: true } }));
      expect(unknown.type).toBe('ValidationError');
      expect(JSON.stringify(unknown)).toContain('admin');
      const huge = 'x'.repeat(1_000_000);
      const tooBig = rejection(await bus.execute(createUser({ userId: huge, username: huge, email: `${huge}@example.com` })));
      expect(tooBig).toMatchObject({ type: 'ValidationError', fields: [{ field: 'userId' }, { field: 'username' }, { field: 'email' }] });
      expect(await store.headPosition()).toBe(LOG_START);
    });
  });

  describe('idempotency', () => {
    it('returns the first outcome for the same key and input, appending once', async () => {
      const command = createUser({ username: 'alice', email: 'a@example.com' });
      const first = await bus.execute(command, { idempotencyKey: 'k1' });
      expect(appendCalls).toBe(1);
      // Equivalent input (before trimming) under the same key is the same request.
      const second = await bus.execute(createUser({ username: ' alice ', email: 'a@example.com  ' }), { idempotencyKey: 'k1' });
      expect(second).toEqual(first);
      // Answered from the record: the command was not decided or appended again.
      expect(appendCalls).toBe(1);
      expect(success(first).changed).toBe(true);
      expect(await everything()).toHaveLength(1);
      expect((await store.getIdempotencyRecord('k1'))?.outcome).toEqual(first);
    });

    it('replays an update under the same key instead of applying it again', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const first = await bus.execute(updateUser({ userId: 'u1', username: 'bob' }), { idempotencyKey: 'k' });
      success(await bus.execute(updateUser({ userId: 'u1', username: 'carol' })));
      const again = await bus.execute(updateUser({ userId: 'u1', username: 'bob' }), { idempotencyKey: 'k' });
      expect(again).toEqual(first);
      expect((await store.readStream('user-u1')).events.map((e) => (e.data as { username?: string }).username)).toEqual([
        'alice',
        'bob',
        'carol',
      ]);
    });

    it('rejects the same key with different input on field idempotencyKey', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' }), { idempotencyKey: 'k1' }));
      const reused = rejection(
        await bus.execute(createUser({ userId: 'u2', username: 'bob', email: 'b@example.com' }), { idempotencyKey: 'k1' }),
      );
      expect(reused).toMatchObject({ type: 'ValidationError', fields: [{ field: 'idempotencyKey' }] });
      const otherType = rejection(await bus.execute(updateUser({ userId: 'u1', username: 'bob' }), { idempotencyKey: 'k1' }));
      expect(otherType).toMatchObject({ type: 'ValidationError', fields: [{ field: 'idempotencyKey' }] });
      expect(await everything()).toHaveLength(1);
    });

    it('replays a rejection under the same key even after the cause went away', async () => {
      const first = await bus.execute(updateUser({ userId: 'u1', username: 'bob' }), { idempotencyKey: 'k1' });
      expect(rejection(first)).toMatchObject({ type: 'UserNotFound', userId: 'u1' });
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const again = await bus.execute(updateUser({ userId: 'u1', username: 'bob' }), { idempotencyKey: 'k1' });
      expect(again).toEqual(first);
      expect((await store.readStream('user-u1')).version).toBe(1);
    });

    it('replays an unchanged outcome under the same key', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const first = await bus.execute(updateUser({ userId: 'u1', username: 'alice' }), { idempotencyKey: 'k1' });
      expect(success(first).changed).toBe(false);
      expect(await bus.execute(updateUser({ userId: 'u1', username: 'alice' }), { idempotencyKey: 'k1' })).toEqual(first);
    });

    it.each([
      ['CreateUser with a generated id', () => createUser({ username: 'alice', email: 'a@example.com' })],
      ['CreateUser with a given id', () => createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })],
    ])('runs 10 concurrent duplicates of %s once, all with the same outcome', async (_label, command) => {
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => bus.execute(command(), { idempotencyKey: 'dup' })));
      const first = success(outcomes[0]!);
      expect(first.changed).toBe(true);
      for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
      expect(await everything()).toHaveLength(1);
      expect((await everything())[0]?.streamId).toBe(first.streamId);
    });

    it('runs 10 concurrent duplicate updates once, all with the same outcome', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => bus.execute(updateUser({ userId: 'u1', email: 'new@example.com' }), { idempotencyKey: 'dup' })),
      );
      for (const outcome of outcomes) expect(outcome).toEqual({ ok: true, value: { streamId: 'user-u1', version: 2, position: sqlitePosition(2), changed: true } });
      expect(await everything()).toHaveLength(2);
    });

    it('runs concurrent duplicates through two buses on one file once', async () => {
      const other = openBus();
      const command = () => createUser({ username: 'alice', email: 'a@example.com' });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? bus : other.bus).execute(command(), { idempotencyKey: 'dup' })),
      );
      for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
      expect(await everything()).toHaveLength(1);
    });
  });

  describe('unique email', () => {
    it('lets exactly one of 20 concurrent creates with the same email (in any case) succeed', async () => {
      const variants = ['same@example.com', 'SAME@example.com', 'Same@Example.Com', 'same@EXAMPLE.COM'];
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          bus.execute(createUser({ userId: `u${i}`, username: `user${i}`, email: variants[i % variants.length]! })),
        ),
      );
      const winners = outcomes.filter((o) => o.ok);
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => !o.ok)) expect(rejection(outcome).type).toBe('EmailTaken');
      const all = await everything();
      expect(all).toHaveLength(1);
      expect(all[0]?.streamId).toBe(success(winners[0]!).streamId);
    });

    it('also holds across two buses on one file', async () => {
      const other = openBus();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? bus : other.bus).execute(createUser({ userId: `u${i}`, username: `user${i}`, email: i % 2 ? 'x@example.com' : 'X@example.com' })),
        ),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => rejection(o).type)).toEqual(Array(19).fill('EmailTaken'));
      expect(await everything()).toHaveLength(1);
    });

    it('rejects an update to another user\'s email, appending nothing', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      success(await bus.execute(createUser({ userId: 'u2', username: 'bob', email: 'b@example.com' })));
      expect(rejection(await bus.execute(updateUser({ userId: 'u2', username: 'bobby', email: 'A@Example.com' })))).toMatchObject({
        type: 'EmailTaken',
      });
      expect((await store.readStream('user-u2')).version).toBe(1);
      // Nothing of the rejected update stuck: bob keeps b@example.com.
      expect(rejection(await bus.execute(createUser({ userId: 'u3', username: 'carl', email: 'b@example.com' }))).type).toBe('EmailTaken');
    });

    it('frees the old email once a user changes theirs', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'old@example.com' })));
      success(await bus.execute(updateUser({ userId: 'u1', email: 'new@example.com' })));
      success(await bus.execute(createUser({ userId: 'u2', username: 'bob', email: 'OLD@example.com' })));
      expect(rejection(await bus.execute(createUser({ userId: 'u3', username: 'carl', email: 'new@example.com' }))).type).toBe('EmailTaken');
      // And a case-only change keeps the claim with its owner.
      success(await bus.execute(updateUser({ userId: 'u1', email: 'NEW@example.com' })));
      expect(rejection(await bus.execute(createUser({ userId: 'u4', username: 'dora', email: 'new@example.com' }))).type).toBe('EmailTaken');
    });
  });

  describe('concurrency on one user', () => {
    const usernames = (events: readonly StoredEvent[]) =>
      events.filter((e) => e.type === 'UserUpdated').map((e) => (e.data as { username: string }).username);

    it('applies 50 concurrent updates without expectedVersion, versions 1..51 contiguous, nothing lost', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'start', email: 'a@example.com' })));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => bus.execute(updateUser({ userId: 'u1', username: `name${i}` }))),
      );
      const versions = outcomes.map((o) => success(o).version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
      const stream = await store.readStream('user-u1');
      expect(stream.events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(new Set(usernames(stream.events))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `name${i}`)));
    });

    it('rejects a stale expectedVersion with the actual version, appending nothing', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      success(await bus.execute(updateUser({ userId: 'u1', username: 'bob', expectedVersion: 1 })));
      const stale = rejection(await bus.execute(updateUser({ userId: 'u1', username: 'carol', expectedVersion: 1 })));
      expect(stale).toMatchObject({ type: 'VersionConflict', expectedVersion: 1, actualVersion: 2 });
      expect((await store.readStream('user-u1')).version).toBe(2);
    });

    it('answers UserNotFound, not VersionConflict, for a missing user whatever expectedVersion is given', async () => {
      for (const expectedVersion of [0, 1, 5]) {
        const missing = rejection(await bus.execute(updateUser({ userId: 'ghost', username: 'bob', expectedVersion })));
        expect(missing).toMatchObject({ type: 'UserNotFound', userId: 'ghost' });
      }
      expect((await store.readStream('user-ghost')).version).toBe(0);
    });

    it('lets one of several concurrent updates with the same expectedVersion win', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => bus.execute(updateUser({ userId: 'u1', username: `name${i}`, expectedVersion: 1 }))),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => !o.ok)) {
        expect(rejection(outcome)).toMatchObject({ type: 'VersionConflict', expectedVersion: 1, actualVersion: 2 });
      }
    });

    /** A second "process" whose reads are each followed by a write of the first process before it can append. */
    function openInterleavedBus(interleave: (call: number) => Promise<unknown>) {
      const s = openEventLog(path);
      stores.push(s);
      let reads = 0;
      const racing: EventStore = {
        ...s,
        readStream: async (streamId) => {
          const slice = await s.readStream(streamId);
          await interleave(++reads);
          return slice;
        },
        append: async (request) => {
          const result = await s.append(request);
          if (!result.ok && result.error.type === 'StreamVersionConflict') versionConflicts += 1;
          return result;
        },
      };
      const b = createCommandBus({ middlewares: [validation, idempotency(s)], clock: () => new Date(), newId: randomUUID });
      registerUserCommands({ commandBus: b, eventLog: racing, newId: uuidv7 });
      return b;
    }

    it('decides again after losing a race to another process, and then applies', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openInterleavedBus(async (call) => {
        if (call === 1) success(await bus.execute(updateUser({ userId: 'u1', email: 'first@example.com' })));
      });
      const outcome = success(await other.execute(updateUser({ userId: 'u1', username: 'second' })));
      expect(outcome).toEqual({ streamId: 'user-u1', version: 3, position: sqlitePosition(3), changed: true });
      expect(versionConflicts).toBe(1);
      expect((await store.readStream('user-u1')).events.map((e) => e.data)).toEqual([
        { userId: 'u1', username: 'alice', email: 'a@example.com', createdBy: null },
        { userId: 'u1', email: 'first@example.com' },
        { userId: 'u1', username: 'second' },
      ]);
    });

    it('reports VersionConflict, without retrying, when a caller-given expectedVersion loses a race', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openInterleavedBus(async () => success(await bus.execute(updateUser({ userId: 'u1', username: 'winner' }))));
      const outcome = rejection(await other.execute(updateUser({ userId: 'u1', username: 'loser', expectedVersion: 1 })));
      expect(outcome).toMatchObject({ type: 'VersionConflict', expectedVersion: 1, actualVersion: 2 });
      expect(versionConflicts).toBe(1);
      expect((await store.readStream('user-u1')).version).toBe(2);
    });

    it('gives up with an error naming the command after losing 10 races in a row (the default budget), appending nothing of its own', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openInterleavedBus(async (call) => success(await bus.execute(updateUser({ userId: 'u1', username: `winner${call}` }))));
      await expect(other.execute(updateUser({ userId: 'u1', username: 'starved' }))).rejects.toThrow(
        'Command UpdateUser lost 10 concurrency races in a row',
      );
      expect(versionConflicts).toBe(10);
      const stream = await store.readStream('user-u1');
      expect(stream.version).toBe(11);
      expect(stream.events.some((e) => (e.data as { username?: string }).username === 'starved')).toBe(false);
    });

    it('decides a create, and updates of the user it created, without reading the stream', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      success(await bus.execute(updateUser({ userId: 'u1', username: 'alicia' })));
      const outcome = success(await bus.execute(updateUser({ userId: 'u1', email: 'new@example.com', expectedVersion: 2 })));
      expect(outcome).toMatchObject({ version: 3, changed: true });
      expect(readCalls).toBe(0);
      // The email freed by the hinted update is free in the store, not only in memory.
      success(await bus.execute(createUser({ userId: 'u2', username: 'bob', email: 'a@example.com' })));
    });

    it('decides again on the stream when another process moved it: an update that looks unchanged to this one is applied', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openBus();
      success(await other.bus.execute(updateUser({ userId: 'u1', username: 'bob' })));
      // This process last left u1 named alice; the stream says bob.
      const outcome = success(await bus.execute(updateUser({ userId: 'u1', username: 'alice' })));
      expect(outcome).toMatchObject({ version: 3, changed: true });
      expect(usernames((await store.readStream('user-u1')).events)).toEqual(['bob', 'alice']);
    });

    it('checks a caller-given expectedVersion against the stream, not against what this process last saw', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openBus();
      success(await other.bus.execute(updateUser({ userId: 'u1', username: 'bob' })));
      const outcome = success(await bus.execute(updateUser({ userId: 'u1', username: 'carol', expectedVersion: 2 })));
      expect(outcome).toMatchObject({ version: 3, changed: true });
    });

    it('rejects creating a user that exists but this process never saw, appending nothing', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'alice', email: 'a@example.com' })));
      const other = openBus();
      expect(rejection(await other.bus.execute(createUser({ userId: 'u1', username: 'again', email: 'b@example.com' })))).toMatchObject({
        type: 'UserAlreadyExists',
      });
      expect(rejection(await other.bus.execute(updateUser({ userId: 'u2', username: 'nobody' })))).toMatchObject({ type: 'UserNotFound' });
      expect((await everything()).map((e) => e.streamId)).toEqual(['user-u1']);
    });

    it('applies 50 concurrent updates through two buses on two stores over one file (two racing processes)', async () => {
      success(await bus.execute(createUser({ userId: 'u1', username: 'start', email: 'a@example.com' })));
      const other = openBus();
      const settled = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? bus : other.bus).execute(updateUser({ userId: 'u1', username: `name${i}` }))),
      );
      const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
      expect(failures).toEqual([]);
      // The racing really happened: at least one command lost a race and was decided again.
      expect(versionConflicts).toBeGreaterThan(0);
      const stream = await store.readStream('user-u1');
      expect(stream.events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(new Set(usernames(stream.events))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `name${i}`)));
      expect(await other.store.readStream('user-u1')).toEqual(stream);
    });
  });
});
