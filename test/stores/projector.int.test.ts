import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { createProjector, type ProjectionSink, type Projector, type ProjectorOptions } from '../../src/kernel/projector.js';
import { rebuildProjection, type RebuildProgress } from '../../src/kernel/rebuild.js';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { openSqlite, type SqliteDatabase } from '../../src/stores/sqlite/database.js';
import { createSqliteEventStore } from '../../src/stores/sqlite/event-store.js';
import { rowIdOf, sqlitePosition } from '../../src/stores/sqlite/position.js';
import { createSqliteProjectionSink, prepareReadDatabase, type SqliteProjection } from '../../src/stores/sqlite/projection-sink.js';
import { createSqliteUsersReadModel, usersProjection } from '../../src/users/read-model/sqlite.js';
import { userSearchSqliteProjection } from '../../src/users/read-model/search/sqlite.js';
import { USER_STREAMS } from '../../src/users/user.js';
import { waitUntil } from '../support/wait.js';

const occurredAt = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

const userCreated = (userId: string, n = 0): NewEvent => ({
  type: 'UserCreated',
  data: { userId, username: `name-${userId}`, email: `${userId}@example.com` },
  metadata: { occurredAt: occurredAt(n) },
});
const userUpdated = (userId: string, data: { username?: string; email?: string }, n = 0): NewEvent => ({
  type: 'UserUpdated',
  data: { userId, ...data },
  metadata: { occurredAt: occurredAt(n) },
});

type UserRow = { id: string; username: string; email: string; version: number; created_at: string; updated_at: string; created_position: Position };

/** The position right after `position` in the SQLite log. */
const following = (position: Position) => sqlitePosition(rowIdOf(position) + 1);

describe('projector over SQLite', () => {
  let dir: string;
  let store: EventStore;
  const readDbs: SqliteDatabase[] = [];
  const projectors: Projector[] = [];

  const openReadDb = (projections: readonly SqliteProjection[] = [usersProjection]) => {
    const db = openSqlite(join(dir, 'read.db'));
    prepareReadDatabase(db, projections);
    readDbs.push(db);
    return db;
  };
  const closeReadDb = (db: SqliteDatabase) => {
    readDbs.splice(readDbs.indexOf(db), 1);
    db.close();
  };
  const projectorFor = (sinks: readonly ProjectionSink[], options: Omit<ProjectorOptions, 'store' | 'sinks'> = {}) => {
    const projector = createProjector({ store, sinks, pollIntervalMs: 60_000, ...options });
    projectors.push(projector);
    return projector;
  };
  const versions = new Map<string, number>();
  /** Appends to a user's stream at its current version; returns the last position. */
  const append = async (userId: string, ...events: NewEvent[]): Promise<Position> => {
    const expectedVersion = versions.get(userId) ?? 0;
    const result = await store.append({ streamId: streamIdOf(USER_STREAMS, userId), expectedVersion, events });
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    versions.set(userId, result.value.version);
    return result.value.position;
  };
  const rows = (db: SqliteDatabase) => db.prepare('SELECT * FROM users ORDER BY created_position').all() as UserRow[];
  const checkpointOf = (db: SqliteDatabase, name = 'users') =>
    (db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').get(name) as { position: Position } | undefined)?.position ?? LOG_START;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'projector-'));
    store = createSqliteEventStore({ path: join(dir, 'events.db') });
    versions.clear();
  });
  afterEach(async () => {
    for (const projector of projectors.splice(0)) await projector.stop();
    for (const db of readDbs.splice(0)) db.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Three users, one renamed and one with a new email; returns the head. */
  async function seed(): Promise<Position> {
    await append('alice', userCreated('alice', 1));
    await append('bob', userCreated('bob', 2));
    await append('alice', userUpdated('alice', { username: 'alice2' }, 3));
    await append('carol', userCreated('carol', 4), userUpdated('carol', { email: 'carol@new.example.com' }, 5));
    return store.headPosition();
  }

  it('catches up on events that exist before it starts', async () => {
    const head = await seed();
    const db = openReadDb();
    const projector = projectorFor([createSqliteProjectionSink(db, usersProjection)]);
    await projector.start();
    expect(await projector.waitFor(head, 5000)).toBe(true);

    const readModel = createSqliteUsersReadModel(db);
    expect(await readModel.count()).toBe(3);
    const byId = new Map((await readModel.byIds(['alice', 'bob', 'carol', 'nobody'])).map((u) => [u.id, u]));
    expect(byId.size).toBe(3);
    expect(byId.get('alice')).toMatchObject({ username: 'alice2', email: 'alice@example.com', version: 2, createdAt: occurredAt(1), updatedAt: occurredAt(3), createdPosition: sqlitePosition(1) });
    expect(byId.get('bob')).toMatchObject({ username: 'name-bob', version: 1, createdPosition: sqlitePosition(2) });
    expect(byId.get('carol')).toMatchObject({ username: 'name-carol', email: 'carol@new.example.com', version: 2, createdPosition: sqlitePosition(4) });
    expect(checkpointOf(db)).toBe(head);
    expect(await projector.status()).toEqual([{ name: 'users', state: 'running', leader: true, position: store.formatPosition(head), lag: 0, haltedAt: null, lastError: null }]);
  });

  it('is woken by appends rather than waiting for its poll interval', async () => {
    const db = openReadDb();
    // The poll interval (60 s) is far beyond the waits below: only the append signal can wake it in time.
    const projector = projectorFor([createSqliteProjectionSink(db, usersProjection)], { pollIntervalMs: 60_000 });
    await projector.start();
    for (let i = 0; i < 3; i++) {
      const position = await append(`user${i}`, userCreated(`user${i}`));
      expect(await projector.waitFor(position, 5000)).toBe(true);
      expect(await createSqliteUsersReadModel(db).count()).toBe(i + 1);
    }
  });

  /** A started projector whose reads of the log are counted, caught up with `head`. */
  const caughtUpCountingReads = async (sinks: ProjectionSink | readonly ProjectionSink[], head: Position) => {
    const counted = { reads: 0 };
    const countingStore: EventStore = {
      ...store,
      readAll: (request) => {
        counted.reads += 1;
        return store.readAll(request);
      },
    };
    const projector = createProjector({ store: countingStore, sinks: Array.isArray(sinks) ? sinks : [sinks], pollIntervalMs: 60_000 });
    projectors.push(projector);
    await projector.start();
    expect(await projector.waitFor(head, 5000)).toBe(true);
    return { projector, counted };
  };
  /** Lets the projector act on whatever woke it, if anything did. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('reads the log once for a batch shorter than its limit, and again only when an append wakes it', async () => {
    const { projector, counted } = await caughtUpCountingReads(createSqliteProjectionSink(openReadDb(), usersProjection), await seed());
    await settle();
    // The short batch held everything: a second read could only have come back empty.
    expect(counted.reads).toBe(1);

    const next = await append('dave', userCreated('dave', 6));
    expect(await projector.waitFor(next, 5000)).toBe(true);
    await settle();
    expect(counted.reads).toBe(2);
  });

  it('reads each batch once for all its projections, however many an append wakes', async () => {
    const db = openReadDb([usersProjection, userSearchSqliteProjection]);
    const sinks = [createSqliteProjectionSink(db, usersProjection), createSqliteProjectionSink(db, userSearchSqliteProjection)];
    const { projector, counted } = await caughtUpCountingReads(sinks, await seed());
    await settle();
    expect(counted.reads).toBe(1);

    for (const [i, name] of ['dave', 'erin', 'frank'].entries()) {
      const next = await append(name, userCreated(name, 6 + i));
      expect(await projector.waitFor(next, 5000)).toBe(true);
      await settle();
      expect(counted.reads).toBe(2 + i);
    }
    expect(checkpointOf(db, 'user-search')).toBe(checkpointOf(db, 'users'));
  });

  it('is not woken by the checkpoint moves of a projection it leads (PostgreSQL announces every move)', async () => {
    const sink = createSqliteProjectionSink(openReadDb(), usersProjection);
    // Announces each move it commits, after the commit, as the PostgreSQL sink's NOTIFY does.
    const listeners = new Set<() => void>();
    const announcing: ProjectionSink = {
      ...sink,
      apply: async (events, from) => {
        const applied = await sink.apply(events, from);
        if (applied) setImmediate(() => listeners.forEach((listener) => listener()));
        return applied;
      },
      onCheckpointMoved: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const { counted } = await caughtUpCountingReads(announcing, await seed());
    await settle();
    expect(counted.reads).toBe(1);
  });

  it('catches up after a restart between append and projection', async () => {
    const firstHead = await seed();
    let db = openReadDb();
    const first = projectorFor([createSqliteProjectionSink(db, usersProjection)]);
    await first.start();
    expect(await first.waitFor(firstHead, 5000)).toBe(true);
    await first.stop();
    closeReadDb(db);

    // Written while nothing projects: the read model must pick these up on restart.
    await append('dave', userCreated('dave', 6));
    await append('alice', userUpdated('alice', { email: 'alice@new.example.com' }, 7));
    await append('bob', userUpdated('bob', { username: 'bobby' }, 8));
    await store.close();
    store = createSqliteEventStore({ path: join(dir, 'events.db') });
    const head = await store.headPosition();
    expect(head > firstHead).toBe(true);

    db = openReadDb();
    expect(checkpointOf(db)).toBe(firstHead);
    const second = projectorFor([createSqliteProjectionSink(db, usersProjection)]);
    await second.start();
    expect(await second.waitFor(head, 5000)).toBe(true);
    expect(checkpointOf(db)).toBe(head);
    expect(rows(db).map((r) => [r.id, r.username, r.email, r.version])).toEqual([
      ['alice', 'alice2', 'alice@new.example.com', 3],
      ['bob', 'bobby', 'bob@example.com', 2],
      ['carol', 'name-carol', 'carol@new.example.com', 2],
      ['dave', 'name-dave', 'dave@example.com', 1],
    ]);
    expect(await createSqliteUsersReadModel(db).count()).toBe(4);
  });

  it('applies a batch exactly once: apply with a stale checkpoint returns false and writes nothing', async () => {
    await seed();
    const db = openReadDb();
    const sink = createSqliteProjectionSink(db, usersProjection);
    const all = await store.readAll({ after: LOG_START, limit: 100 });
    const firstBatch = all.slice(0, 3);
    expect(await sink.apply(firstBatch, LOG_START)).toBe(true);
    expect(await sink.checkpoint()).toBe(firstBatch[2]!.position);
    const afterFirst = rows(db);
    expect(afterFirst).toHaveLength(2);

    // Redelivery of the same batch (a second runner, a retry after a lost reply).
    expect(await sink.apply(firstBatch, LOG_START)).toBe(false);
    // The next batch, but claimed to follow a checkpoint that is no longer current.
    expect(await sink.apply(all.slice(3), LOG_START)).toBe(false);
    expect(await sink.apply(all.slice(3), firstBatch[1]!.position)).toBe(false);
    expect(rows(db)).toEqual(afterFirst);
    expect(await createSqliteUsersReadModel(db).count()).toBe(2);
    expect(await sink.checkpoint()).toBe(firstBatch[2]!.position);

    // From the right checkpoint it goes on.
    expect(await sink.apply(all.slice(3), firstBatch[2]!.position)).toBe(true);
    expect(await createSqliteUsersReadModel(db).count()).toBe(3);
  });

  it('keeps each user once with the right version when two projectors share the read database', async () => {
    const users = 30;
    for (let i = 0; i < users; i++) await append(`u${i}`, userCreated(`u${i}`, i));
    for (let i = 0; i < users; i += 3) await append(`u${i}`, userUpdated(`u${i}`, { username: `renamed${i}` }));

    // Two connections to one read.db, as two server processes would have.
    let staleApplies = 0;
    const countingStale = (sink: ProjectionSink): ProjectionSink => ({
      name: sink.name,
      checkpoint: () => sink.checkpoint(),
      reset: () => sink.reset(),
      apply: async (events, from) => {
        const applied = await sink.apply(events, from);
        if (!applied) staleApplies += 1;
        return applied;
      },
    });
    const a = projectorFor([countingStale(createSqliteProjectionSink(openReadDb(), usersProjection))], { batchSize: 4 });
    const b = projectorFor([countingStale(createSqliteProjectionSink(openReadDb(), usersProjection))], { batchSize: 4 });
    await Promise.all([a.start(), b.start()]);
    // More appends while both run.
    const live = await Promise.all(Array.from({ length: 10 }, (_, i) => append(`live${i}`, userCreated(`live${i}`))));
    for (let i = 0; i < 10; i += 2) await append(`live${i}`, userUpdated(`live${i}`, { email: `live${i}@new.example.com` }));
    const head = await store.headPosition();
    expect(live.every((position) => position <= head)).toBe(true);
    expect(await a.waitFor(head, 5000)).toBe(true);
    expect(await b.waitFor(head, 5000)).toBe(true);

    // The race really happened: one runner's batches were refused by the checkpoint guard.
    expect(staleApplies).toBeGreaterThan(0);
    const db = readDbs[0]!;
    const all = rows(db);
    expect(all).toHaveLength(users + 10);
    expect(await createSqliteUsersReadModel(db).count()).toBe(users + 10);
    for (const row of all) expect(row.version, row.id).toBe(versions.get(row.id));
    expect(all.filter((r) => r.username.startsWith('renamed'))).toHaveLength(10);
    expect(all.filter((r) => r.email.endsWith('@new.example.com'))).toHaveLength(5);
    expect(checkpointOf(db)).toBe(head);
  });

  describe('a projection that fails on an event', () => {
    let poisoned: Set<string>;
    const failing: SqliteProjection = {
      ...usersProjection,
      apply: (db, events) => {
        for (const event of events) {
          const userId = (event.data as { userId?: string }).userId ?? '';
          usersProjection.apply(db, [event]);
          // Throws after writing this event's row, so a partial batch would be visible if not rolled back.
          if (poisoned.has(userId)) throw new Error(`cannot project ${userId}`);
        }
      },
    };
    /** A second read model in the same read.db that never fails: it counts events. */
    const counting: SqliteProjection = {
      name: 'event_count',
      eventTypes: ['UserCreated', 'UserUpdated'],
      migrations: [{ version: 1, description: 'count', up: (db) => db.exec('CREATE TABLE event_count (n INTEGER NOT NULL) STRICT; INSERT INTO event_count VALUES (0)') }],
      apply: (db, events) => void db.prepare('UPDATE event_count SET n = n + ?').run(events.length),
      reset: (db) => void db.exec('UPDATE event_count SET n = 0'),
    };
    beforeEach(() => {
      poisoned = new Set(['bad']);
    });

    type Failing = {
      db: SqliteDatabase;
      projector: Projector;
      goodHead: Position;
      /** Position of erin's creation, the event right before the poisoned one. */
      beforeBad: Position;
      bad: Position;
      head: Position;
      firstError: Promise<unknown>;
      halted: Promise<{ position: Position; error: unknown }>;
      errors: unknown[];
    };

    /** The users projection (failing on "bad") and, with `others`, a healthy one beside it. */
    async function failOnce(options: { maxRetries?: number; retryDelayMs?: number; others?: SqliteProjection[] } = {}): Promise<Failing> {
      const { others = [], ...retry } = options;
      const goodHead = await seed();
      const db = openReadDb([failing, ...others]);
      const sinks = () => [failing, ...others].map((p) => createSqliteProjectionSink(db, p));
      const warmUp = projectorFor(sinks());
      await warmUp.start();
      expect(await warmUp.waitFor(goodHead, 5000)).toBe(true);
      await warmUp.stop();
      // Appended while stopped, so the restarted projector reads them as one batch:
      // a good user, the poisoned one, an update of a good user.
      const beforeBad = await append('erin', userCreated('erin', 10));
      const bad = await append('bad', userCreated('bad', 11));
      const head = await append('bob', userUpdated('bob', { username: 'bobby' }, 12));
      const errors: unknown[] = [];
      let reportError: (error: unknown) => void = () => {};
      const firstError = new Promise<unknown>((resolve) => (reportError = resolve));
      let reportHalt: (halt: { position: Position; error: unknown }) => void = () => {};
      const halted = new Promise<{ position: Position; error: unknown }>((resolve) => (reportHalt = resolve));
      const projector = projectorFor(sinks(), {
        ...retry,
        onError: (sink, e) => {
          if (sink !== 'users') return;
          errors.push(e);
          reportError(e);
        },
        onHalt: (_sink, position, error) => reportHalt({ position, error }),
      });
      await projector.start();
      return { db, projector, goodHead, beforeBad, bad, head, firstError, halted, errors };
    }
    /** The rows once every event, the poisoned one included, is projected. */
    const allProjected = [
      ['alice', 'alice2'],
      ['bob', 'bobby'],
      ['carol', 'name-carol'],
      ['erin', 'name-erin'],
      ['bad', 'name-bad'],
    ];
    const statusOf = async (projector: Projector, name = 'users') => (await projector.status()).find((s) => s.name === name)!;

    it('rolls back the failing batch, then applies event by event up to the poisoned one', async () => {
      const { db, projector, goodHead, beforeBad, firstError } = await failOnce();
      expect(await firstError).toMatchObject({ message: 'cannot project bad' });
      expect(await projector.waitFor(beforeBad, 5000)).toBe(true);
      // erin (before the poisoned event) is in; bad (written, then thrown) and bob's later rename are not.
      expect(rows(db).map((r) => [r.id, r.username])).toEqual([
        ['alice', 'alice2'],
        ['bob', 'name-bob'],
        ['carol', 'name-carol'],
        ['erin', 'name-erin'],
      ]);
      expect(await createSqliteUsersReadModel(db).count()).toBe(4);
      expect(checkpointOf(db)).toBe(beforeBad);
      expect(beforeBad > goodHead).toBe(true);
      await waitUntil(async () => (await statusOf(projector)).state === 'retrying', 'the projection to retry');
      expect(await statusOf(projector)).toMatchObject({ position: store.formatPosition(beforeBad), haltedAt: null, lastError: 'cannot project bad' });
    });

    it('halts at the poisoned event after its retries, reporting where and why, and never skips it', async () => {
      const { db, projector, beforeBad, bad, head, halted, errors } = await failOnce({ maxRetries: 2, retryDelayMs: 1, others: [counting] });
      // Asked before the halt, answered by it: nothing will pass the poisoned event now.
      const pending = projector.waitFor(head, 60_000);
      const halt = await halted;
      expect(halt.position).toBe(bad);
      expect(halt.error).toMatchObject({ message: 'cannot project bad' });
      expect(await pending).toBe(false);
      // The batch, then the poisoned event alone: once plus two retries.
      expect(errors).toHaveLength(4);
      expect(await statusOf(projector)).toEqual({
        name: 'users',
        state: 'halted',
        leader: true,
        position: store.formatPosition(beforeBad),
        lag: rowIdOf(head) - rowIdOf(beforeBad),
        haltedAt: store.formatPosition(bad),
        lastError: 'cannot project bad',
      });

      // More events: the healthy projection takes them, the halted one stays where it is.
      const later = await append('frank', userCreated('frank', 13));
      await waitUntil(async () => (await statusOf(projector, 'event_count')).position === store.formatPosition(later), 'the healthy projection to reach the head');
      expect(db.prepare('SELECT n FROM event_count').get()).toEqual({ n: rowIdOf(later) });
      expect(await statusOf(projector, 'event_count')).toMatchObject({ state: 'running', lag: 0, lastError: null });
      expect(await statusOf(projector)).toMatchObject({ state: 'halted', position: store.formatPosition(beforeBad), haltedAt: store.formatPosition(bad) });
      expect(checkpointOf(db)).toBe(beforeBad);
      expect(rows(db).map((r) => r.id)).toEqual(['alice', 'bob', 'carol', 'erin']);
      expect(errors).toHaveLength(4);
      // Positions before the halt are still answered; those at or past it at once, not after the timeout.
      expect(await projector.waitFor(beforeBad, 60_000)).toBe(true);
      expect(await projector.waitFor(bad, 60_000)).toBe(false);
      expect(await projector.waitFor(later, 60_000)).toBe(false);
    });

    it('after a fix, resume() takes it up at the poisoned event', async () => {
      const { db, projector, head, halted } = await failOnce({ maxRetries: 0 });
      await halted;
      expect(projector.resume('event_count')).toBe(false); // no such projection halted
      poisoned.clear();
      expect(projector.resume('users')).toBe(true);
      expect(await projector.waitFor(head, 5000)).toBe(true);
      expect(rows(db).map((r) => [r.id, r.username])).toEqual(allProjected);
      expect(await statusOf(projector)).toEqual({ name: 'users', state: 'running', leader: true, position: store.formatPosition(head), lag: 0, haltedAt: null, lastError: null });
      expect(projector.resume('users')).toBe(false);
    });

    it('after a fix, a restart takes it up at the poisoned event: the checkpoint it halted at is durable', async () => {
      const { db, projector, beforeBad, head, halted } = await failOnce({ maxRetries: 0 });
      await halted;
      await projector.stop();
      expect(checkpointOf(db)).toBe(beforeBad);
      poisoned.clear();
      const restarted = projectorFor([createSqliteProjectionSink(db, failing)]);
      await restarted.start();
      expect(await restarted.waitFor(head, 5000)).toBe(true);
      expect(rows(db).map((r) => r.id)).toEqual(['alice', 'bob', 'carol', 'erin', 'bad']);
      expect(await createSqliteUsersReadModel(db).count()).toBe(5);
    });

    it('retries and catches up by itself when the failure goes away before the retries run out', async () => {
      const { db, projector, head, firstError } = await failOnce();
      await firstError;
      poisoned.clear();
      expect(await projector.waitFor(head, 5000)).toBe(true);
      expect(rows(db).map((r) => [r.id, r.username])).toEqual(allProjected);
      expect(await createSqliteUsersReadModel(db).count()).toBe(5);
      expect(await projector.status()).toEqual([{ name: 'users', state: 'running', leader: true, position: store.formatPosition(head), lag: 0, haltedAt: null, lastError: null }]);
    });

    it('does not halt when the store fails: no event is to blame, so it retries until the store is back', async () => {
      const head = await seed();
      let failingReads = 5;
      const flaky: EventStore = {
        ...store,
        readAll: async (options) => {
          if (failingReads > 0) {
            failingReads -= 1;
            throw new Error('disk I/O error');
          }
          return store.readAll(options);
        },
      };
      const db = openReadDb();
      const halts: Position[] = [];
      const projector = createProjector({
        store: flaky,
        sinks: [createSqliteProjectionSink(db, usersProjection)],
        pollIntervalMs: 60_000,
        maxRetries: 1,
        retryDelayMs: 1,
        onHalt: (_sink, position) => halts.push(position),
      });
      projectors.push(projector);
      await projector.start();
      expect(await projector.waitFor(head, 5000)).toBe(true);
      expect(failingReads).toBe(0);
      expect(halts).toEqual([]);
      expect(await projector.status()).toEqual([{ name: 'users', state: 'running', leader: true, position: store.formatPosition(head), lag: 0, haltedAt: null, lastError: null }]);
    });
  });

  it('rebuilds: resets and replays to the same rows, reporting progress', async () => {
    await seed();
    for (let i = 0; i < 7; i++) await append(`extra${i}`, userCreated(`extra${i}`, 20 + i));
    const head = await store.headPosition();
    const db = openReadDb();
    const sink = createSqliteProjectionSink(db, usersProjection);
    const projector = projectorFor([sink]);
    await projector.start();
    expect(await projector.waitFor(head, 5000)).toBe(true);
    await projector.stop();
    const expected = rows(db);
    expect(expected).toHaveLength(10);

    // Damage the read model so that only a real replay restores it.
    db.exec("UPDATE users SET username = 'garbage'; DELETE FROM users WHERE id = 'bob'; UPDATE users_count SET total = 999");
    const progress: RebuildProgress[] = [];
    const result = await rebuildProjection(store, sink, { batchSize: 4, onProgress: (p) => progress.push(p) });

    expect(rows(db)).toEqual(expected);
    expect(await createSqliteUsersReadModel(db).count()).toBe(10);
    expect(await sink.checkpoint()).toBe(head);
    const total = rowIdOf(head);
    expect(result).toEqual({ applied: total, total });
    const batches = Math.ceil(total / 4);
    expect(progress.map((p) => p.applied)).toEqual(Array.from({ length: batches }, (_, i) => Math.min(total, (i + 1) * 4)));
    expect(progress.at(-1)).toEqual({ applied: total, total });
    for (const p of progress) expect(p.total).toBe(total);
  });

  it('refuses to finish a rebuild when another runner moves the checkpoint', async () => {
    const head = await seed();
    const db = openReadDb();
    const sink = createSqliteProjectionSink(db, usersProjection);
    const intruder = createSqliteProjectionSink(openReadDb(), usersProjection);
    const events = await store.readAll({ after: LOG_START, limit: 100 });
    const racing: ProjectionSink = {
      name: sink.name,
      checkpoint: () => sink.checkpoint(),
      reset: () => sink.reset(),
      apply: async (batch, from) => {
        // A forgotten server applies the first events just before the rebuild does.
        await intruder.apply(events.slice(0, 1), LOG_START);
        return sink.apply(batch, from);
      },
    };
    await expect(rebuildProjection(store, racing, { batchSize: 2 })).rejects.toThrow(/Checkpoint of users moved during rebuild/);
    // Only the intruder's event took effect; nothing was applied twice.
    expect(await createSqliteUsersReadModel(db).count()).toBe(1);
    expect(checkpointOf(db)).toBe(events[0]!.position);
    expect(rowIdOf(head)).toBeGreaterThan(1);
  });

  it('waitFor resolves false when the position is not reached in time, and on stop', async () => {
    const head = await seed();
    const db = openReadDb();
    const projector = projectorFor([createSqliteProjectionSink(db, usersProjection)]);
    expect(await projector.waitFor(head, 20)).toBe(false); // not started
    await projector.start();
    expect(await projector.waitFor(head, 5000)).toBe(true);
    expect(await projector.waitFor(following(head), 50)).toBe(false);
    const pending = projector.waitFor(following(head), 60_000);
    await projector.stop();
    expect(await pending).toBe(false);
    expect(await projector.waitFor(head, 10)).toBe(true); // already passed
  });
});
