/**
 * The users’ command handler reading streams from snapshots decides exactly
 * as it does reading whole streams, whatever happened to the snapshots.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandBus, validation, type CommandOutcome } from '../../src/kernel/command-bus.js';
import type { EventLog, EventStore } from '../../src/kernel/event-store.js';
import { idempotency } from '../../src/kernel/idempotency.js';
import type { Command, CommandMetadata } from '../../src/kernel/messages.js';
import type { SnapshotStore } from '../../src/kernel/snapshots.js';
import { createStreamFolds } from '../../src/kernel/stream-folds.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { createSqliteSnapshotStore } from '../../src/stores/sqlite/snapshots.js';
import { openPostgres } from '../../src/stores/postgres/database.js';
import { createPostgresEventStore } from '../../src/stores/postgres/event-store.js';
import { createPostgresSnapshotStore } from '../../src/stores/postgres/snapshots.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { registerUserCommands } from '../../src/users/command-handlers.js';

const EVERY = 4;
const at = (i: number): CommandMetadata => ({ commandId: `c${i}`, now: new Date(Date.UTC(2026, 0, 1, 0, i)) });

/** Commands on two users that hit every decision: changes, no-ops, stale versions, taken emails, unknown users. */
function script(): Command[] {
  const commands: Command[] = [
    { type: 'CreateUser', data: { userId: 'u1', username: 'alice', email: 'alice@example.com' } },
    { type: 'CreateUser', data: { userId: 'u2', username: 'bob', email: 'bob@example.com' } },
  ];
  for (let i = 0; i < 30; i++) {
    commands.push({ type: 'UpdateUser', data: { userId: 'u1', username: `alice${i % 7}` } });
    if (i % 5 === 0) commands.push({ type: 'UpdateUser', data: { userId: 'u1', email: `alice${i}@example.com`, expectedVersion: i } });
    if (i % 6 === 0) commands.push({ type: 'UpdateUser', data: { userId: 'u2', email: `alice${i - 6}@example.com` } });
    if (i % 9 === 0) commands.push({ type: 'UpdateUser', data: { userId: 'nobody', username: 'ghost' } });
    if (i % 4 === 0) commands.push({ type: 'UpdateUser', data: { userId: 'u2', username: `bob${i}` } });
  }
  return commands;
}

type Opened = Readonly<{ store: EventStore; snapshots: SnapshotStore; close: () => Promise<void> }>;

const STORES: readonly { name: string; skip: boolean; open: (dir: string, name: string) => Promise<Opened> }[] = [
  {
    name: 'SQLite',
    skip: false,
    open: async (dir, name) => {
      const store = createSqliteEventStore({ path: join(dir, `${name}.db`) });
      const snapshots = createSqliteSnapshotStore({ path: join(dir, `${name}-snapshots.db`) });
      return {
        store,
        snapshots,
        close: async () => {
          await snapshots.close();
          await store.close();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresUnavailable !== null,
    open: async (_dir, name) => {
      const database = await createTestDatabase(`commands_${name}`);
      const pool = openPostgres(database.url);
      const store = await createPostgresEventStore({ pool, connectionString: database.url });
      const snapshots = await createPostgresSnapshotStore(pool);
      return {
        store,
        snapshots,
        close: async () => {
          await store.close();
          await pool.end();
          await database.drop();
        },
      };
    },
  },
];

/**
 * Positions differ between two stores (PostgreSQL's carry transaction ids), so outcomes are
 * compared with each position read as the stream version of the event it names in its own store.
 */
async function comparable(store: EventStore, outcome: CommandOutcome) {
  if (!outcome.ok) return outcome;
  const { position, ...rest } = outcome.value;
  const events = (await store.readStream(outcome.value.streamId)).events;
  return { ok: true, value: { ...rest, positionOfVersion: events.find((e) => e.position === position)?.streamVersion ?? null } };
}

describe.each(STORES.filter((s) => !s.skip))('user commands with snapshots ($name)', ({ open: openStore }) => {
  let dir: string;
  const closing: (() => Promise<void>)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'command-snapshots-'));
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (name: string) => {
    const opened = await openStore(dir, name);
    closing.push(opened.close);
    return opened;
  };

  /** A bus as src/system.ts wires it, new each time: nothing cached, every command reads its stream. */
  const freshBus = (store: EventStore, snapshots?: SnapshotStore, onError: (error: unknown) => void = (error) => expect.fail(String(error))) => {
    const read = { events: 0 };
    const eventLog: Pick<EventLog, 'append' | 'readStream' | 'readStreamFrom'> = {
      append: (request) => store.append(request),
      readStream: async (streamId) => {
        const slice = await store.readStream(streamId);
        read.events += slice.events.length;
        return slice;
      },
      readStreamFrom: async (streamId, options) => {
        const events = await store.readStreamFrom(streamId, options);
        read.events += events.length;
        return events;
      },
    };
    const bus = createCommandBus({ middlewares: [validation, idempotency(store)], clock: () => new Date(), newId: randomUUID });
    const streamFolds = snapshots && createStreamFolds({ eventLog, snapshots, every: EVERY, onError });
    registerUserCommands({ commandBus: bus, eventLog, newId: uuidv7, ...(streamFolds ? { streamFolds } : {}) });
    return { bus, read, settled: () => streamFolds?.settled() ?? Promise.resolve() };
  };

  it('decides every command as it does without snapshots, with snapshots kept, damaged or deleted', async () => {
    const plain = await open('plain');
    const cached = await open('cached');
    const commands = script();
    expect(commands.length).toBeGreaterThan(45);
    const outcomes: { plain: Awaited<ReturnType<typeof comparable>>; cached: Awaited<ReturnType<typeof comparable>> }[] = [];
    const snapshotErrors: number[] = [];
    for (const [i, command] of commands.entries()) {
      if (i === 25) await cached.snapshots.deleteSnapshots();
      if (i === 40) {
        // Damage: a state of the wrong shape, and one claiming a version the stream never reached.
        const newest = (await cached.snapshots.loadSnapshot('user-u1', 'user-state@2'))!;
        await cached.snapshots.saveSnapshots([{ ...newest, state: { status: 'registered', userId: 'u1' } }]);
        await cached.snapshots.saveSnapshots([{ ...newest, version: newest.version + 50 }]);
      }
      const withSnapshots = freshBus(cached.store, cached.snapshots, () => snapshotErrors.push(i));
      outcomes.push({
        plain: await comparable(plain.store, await freshBus(plain.store).bus.execute(command, at(i))),
        cached: await comparable(cached.store, await withSnapshots.bus.execute(command, at(i))),
      });
      await withSnapshots.settled();
    }
    for (const [i, { plain: expected, cached: actual }] of outcomes.entries()) expect(actual, `command ${i}: ${JSON.stringify(commands[i])}`).toEqual(expected);
    expect(outcomes.filter(({ plain }) => !plain.ok).length).toBeGreaterThan(5);
    // The damaged snapshots were seen, read past, and nothing else went wrong.
    expect(snapshotErrors.length).toBeGreaterThan(0);
    expect(snapshotErrors.every((i) => i >= 40)).toBe(true);
    for (const streamId of ['user-u1', 'user-u2']) {
      expect((await cached.store.readStream(streamId)).events.map(({ type, data }) => ({ type, data }))).toEqual(
        (await plain.store.readStream(streamId)).events.map(({ type, data }) => ({ type, data })),
      );
    }
    expect((await cached.snapshots.loadSnapshot('user-u1', 'user-state@2'))?.version).toBeGreaterThanOrEqual(EVERY);
    expect((await cached.snapshots.loadSnapshot('user-u1', 'user-view@2'))?.version).toBeGreaterThanOrEqual(EVERY);
  });

  it('reads only what lies after the newest snapshot, where the plain handler reads the whole stream', async () => {
    const plain = await open('plain');
    const cached = await open('cached');
    for (const [i, command] of script().entries()) {
      await freshBus(plain.store).bus.execute(command, at(i));
      const bus = freshBus(cached.store, cached.snapshots);
      await bus.bus.execute(command, at(i));
      await bus.settled();
    }
    const length = (await cached.store.readStream('user-u1')).version;
    expect(length).toBeGreaterThan(4 * EVERY);
    const update = { type: 'UpdateUser', data: { userId: 'u1', username: 'zed' } };
    const withSnapshots = freshBus(cached.store, cached.snapshots);
    const without = freshBus(plain.store);
    const outcome = await withSnapshots.bus.execute(update, at(999));
    // Counted before any background snapshot write can read.
    const readByCommand = withSnapshots.read.events;
    // The update may cross a snapshot interval: its background write ends before the store closes.
    await withSnapshots.settled();
    expect(await comparable(cached.store, outcome)).toEqual(await comparable(plain.store, await without.bus.execute(update, at(999))));
    expect(without.read.events).toBe(length);
    // A process's first read of a stream takes its first EVERY events, and only when they fill the read does
    // it ask for a snapshot (most streams are shorter and have none): at most EVERY more than from the snapshot.
    expect(readByCommand).toBeLessThanOrEqual(2 * EVERY);
    expect(readByCommand).toBeLessThan(length);
  });
});
