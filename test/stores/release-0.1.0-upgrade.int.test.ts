/**
 * Stores written by release 0.1.0 (test/fixtures/release-0.1.0, written
 * through that release's server) open under this build: their streams, named
 * by the bare user id then, are read as `user-<id>`, and everything that names
 * a stream moved with them (unique email claims, stored command outcomes).
 * The fixture's second user has the id `user-2`, which looks like a new
 * stream id: its stream must become `user-user-2`, not stay where it is.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandBus, validation, type CommandOutcome } from '../../src/kernel/command-bus.js';
import { idempotency } from '../../src/kernel/idempotency.js';
import { LOG_START } from '../../src/kernel/position.js';
import { createProjector } from '../../src/kernel/projector.js';
import { createQueryBus, createRequestScope } from '../../src/kernel/query-bus.js';
import { modules } from '../../src/modules.js';
import { openStorage, type Storage } from '../../src/storage.js';
import { sealStoreInPlace } from '../../src/stores/seal-stored-events.js';
import Database from 'better-sqlite3';
import type { CreateUserRequest, UpdateUser } from '../../src/users/decide.js';
import { getUser, getUserAtVersion, getUsers } from '../../src/users/read-model/queries.js';
import { createTestDatabase, openTestPool, postgresUnavailable } from '../support/postgres.js';
import { streamFoldsOf } from '../support/storage.js';
import { waitUntil } from '../support/wait.js';
import { testMasterKey } from '../support/master-key.js';

const FIXTURES = new URL('../fixtures/release-0.1.0/', import.meta.url);
/**
 * The fixtures' emails and usernames (as JSON strings, escaped or not: "grace" is also in an idempotency
 * key, which is no personal field): none may be left in plaintext in the log, claims or outcomes once migrated.
 */
const PLAINTEXT = /ada@|grace@|edsger@|ada\.l|"(ada|grace|edsger|edsger\.d)\\?"/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The fixtures' idempotency records are as old as the fixtures: kept answering, whatever their age, so their outcomes can be replayed. */
const FIXTURE_RECORDS_KEPT = { windowMs: 100 * 365 * 86_400_000, clock: () => new Date() };

type Opened = Readonly<{ storage: Storage; cleanup: () => Promise<void> }>;

/**
 * Release 0.1.0 kept emails and usernames in plaintext, in events and claims; this build seals them.
 * Each fixture is brought over as an operator does, by `npm run migrate`'s steps: the tables migrated
 * (the renaming these tests are about) by opening the store, then the events sealed in place.
 */
async function migrateAsTheCommandDoes(options: Parameters<typeof sealStoreInPlace>[0] & Parameters<typeof openStorage>[0]) {
  await (await openStorage(options, modules)).close();
  expect(await sealStoreInPlace(options, modules)).toMatchObject({ type: 'Sealed', events: 5, claims: 3, outcomes: 1 });
}

/** A copy of the SQLite fixture in a temporary directory: the fixture itself is never opened. */
async function openSqliteFixture(): Promise<Opened> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-release-0.1.0-'));
  cpSync(new URL('sqlite/', FIXTURES), dataDir, { recursive: true });
  const options = { kind: 'sqlite', dataDir, durability: 'process', masterKey: testMasterKey } as const;
  await migrateAsTheCommandDoes(options);
  const db = new Database(join(dataDir, 'events.db'), { readonly: true });
  const stored = JSON.stringify(db.prepare('SELECT * FROM events').all()) + JSON.stringify(db.prepare('SELECT * FROM unique_values').all());
  db.close();
  expect(stored).not.toMatch(PLAINTEXT);
  expect(readFileSync(join(dataDir, 'events.db')).toString('latin1')).not.toMatch(PLAINTEXT);
  // As `serve` opens it: refused unless every event is sealed.
  const storage = await openStorage({ ...options, refuseUnsealedEvents: true }, modules, { idempotencyRetention: FIXTURE_RECORDS_KEPT });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The PostgreSQL fixture (a pg_dump) restored into a fresh database. */
async function openPostgresFixture(): Promise<Opened> {
  const database = await createTestDatabase('release_0_1_0');
  // Its own session: the dump sets search_path for the session it runs in.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(readFileSync(new URL('postgres.sql', FIXTURES), 'utf8'));
  } finally {
    await client.end();
  }
  const options = { kind: 'postgres', url: database.url, poolSize: 2, masterKey: testMasterKey } as const;
  await migrateAsTheCommandDoes(options);
  const pool = openTestPool({ connectionString: database.url });
  try {
    const { rows } = await pool.query<{ text: string }>(
      `SELECT (SELECT json_agg(e)::text FROM events e) || (SELECT json_agg(u)::text FROM unique_values u) || (SELECT json_agg(r)::text FROM idempotency_records r) AS text`,
    );
    expect(rows[0]!.text).not.toMatch(PLAINTEXT);
  } finally {
    await pool.end();
  }
  // As `serve` opens it: refused unless every event is sealed.
  const storage = await openStorage({ ...options, refuseUnsealedEvents: true }, modules, { idempotencyRetention: FIXTURE_RECORDS_KEPT });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      await database.drop();
    },
  };
}

/** The modules' handlers on the opened storage, behind the bus steps src/system.ts puts in front of them. */
function busesOf(storage: Storage) {
  const commandBus = createCommandBus({ middlewares: [validation, idempotency(storage.store)], clock: () => new Date(), newId: randomUUID });
  const queryBus = createQueryBus();
  storage.registerModules({ commandBus, queryBus, eventLog: storage.store, positions: storage.store, streamFolds: streamFoldsOf(storage), newId: uuidv7 });
  return { commandBus, queryBus, scope: createRequestScope };
}

const createUser = (data: CreateUserRequest['data']): CreateUserRequest => ({ type: 'CreateUser', data });
const updateUser = (data: UpdateUser['data']): UpdateUser => ({ type: 'UpdateUser', data });

function success(outcome: CommandOutcome) {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

/**
 * `positionsOfThisServer`: false when the fixture's positions come from another server (a PostgreSQL
 * dump carries the old cluster's transaction ids), so reading the whole log in order and projecting
 * new events are not this test's to judge; reading and appending to streams is.
 */
function describeUpgrade(store: string, open: () => Promise<Opened>, options: { positionsOfThisServer: boolean }) {
  describe(`a ${store} store written by release 0.1.0`, () => {
    let opened: Opened | undefined;
    const storage = () => opened!.storage;
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    /** The three users in creation order, from the read model, with the generated id found. */
    const allUsers = async () => {
      const { queryBus, scope } = busesOf(storage());
      const page = await queryBus.execute(getUsers({ first: 10 }), scope());
      if (!page.ok) throw new Error(page.error.message);
      return page.value.edges.map((edge) => edge.node);
    };

    it('serves its three users through the users queries, as the last commands left them', async () => {
      const users = await allUsers();
      expect(users.map(({ id, username, email, version }) => ({ id, username, email, version }))).toEqual([
        { id: 'u1', username: 'ada.l', email: 'ada@lovelace.example', version: 2 },
        { id: 'user-2', username: 'grace', email: 'grace@example.com', version: 1 },
        { id: expect.stringMatching(UUID_V7), username: 'edsger.d', email: 'edsger@example.com', version: 2 },
      ]);
      const { queryBus, scope } = busesOf(storage());
      expect(await queryBus.execute(getUser('user-2'), scope())).toMatchObject({ id: 'user-2', username: 'grace', email: 'grace@example.com', erased: false });
      // Folded from the renamed streams (what a mutation's answer falls back on).
      expect(await queryBus.execute(getUserAtVersion('u1', 1, 'exactly'), scope())).toMatchObject({
        id: 'u1',
        username: 'ada',
        email: 'ada@example.com',
        version: 1,
      });
      expect(await queryBus.execute(getUserAtVersion('user-2', 1, 'exactly'), scope())).toMatchObject({ id: 'user-2', username: 'grace', version: 1 });
      expect(await queryBus.execute(getUserAtVersion(users[2]!.id, 2, 'exactly'), scope())).toMatchObject({ username: 'edsger.d', version: 2 });
    });

    it("keeps every event, each in its user's categorised stream", async () => {
      const [, , edsger] = await allUsers();
      const { store } = storage();
      const u1 = await store.readStream('user-u1');
      expect(u1.events.map((e) => [e.type, e.streamVersion])).toEqual([
        ['UserCreated', 1],
        ['UserUpdated', 2],
      ]);
      expect((await store.readStream('user-user-2')).events.map((e) => [e.type, e.data])).toEqual([
        // Stored as UserCreated v1, read as v2: who created a user was not recorded then.
        ['UserCreated', { userId: 'user-2', username: 'grace', email: 'grace@example.com', createdBy: null }],
      ]);
      expect((await store.readStream(`user-${edsger!.id}`)).version).toBe(2);
      for (const old of ['u1', 'user-2', edsger!.id]) expect((await store.readStream(old)).version).toBe(0);
      if (!options.positionsOfThisServer) return;
      expect((await store.readAll({ after: LOG_START, limit: 10 })).map((e) => e.streamId)).toEqual([
        'user-u1',
        'user-user-2',
        `user-${edsger!.id}`,
        'user-u1',
        `user-${edsger!.id}`,
      ]);
    });

    it('replays the stored command outcomes under the renamed streams, appending nothing', async () => {
      const { commandBus } = busesOf(storage());
      const { store } = storage();
      const [, renamed] = (await store.readStream('user-u1')).events;
      const rename = await commandBus.execute(updateUser({ userId: 'u1', username: 'ada.l', email: 'ada@lovelace.example' }), {
        idempotencyKey: 'rename-ada',
      });
      expect(rename).toEqual({ ok: true, value: { streamId: 'user-u1', version: 2, position: renamed!.position, changed: true } });
      const create = await commandBus.execute(createUser({ userId: 'user-2', username: 'grace', email: 'grace@example.com' }), {
        idempotencyKey: 'create-grace',
      });
      const [created] = (await store.readStream('user-user-2')).events;
      expect(create).toEqual({ ok: true, value: { streamId: 'user-user-2', version: 1, position: created!.position, changed: true } });
      // A rejection names no stream; the email 0.1.0 kept in it was removed by the migration.
      expect((await store.getIdempotencyRecord('steal-email'))?.outcome).toEqual({
        ok: false,
        error: { type: 'EmailTaken', message: 'Another user already has this email address' },
      });
      expect((await store.readStream('user-u1')).version).toBe(2);
      expect((await store.readStream('user-user-2')).version).toBe(1);
      if (options.positionsOfThisServer) expect(await store.readAll({ after: LOG_START, limit: 10 })).toHaveLength(5);
    });

    it('holds the email claims on the renamed streams: taken, then freed by the owner, who writes on at version 3', async () => {
      const { commandBus, queryBus, scope } = busesOf(storage());
      const { store } = storage();
      const taken = await commandBus.execute(createUser({ username: 'imposter', email: 'ada@lovelace.example' }));
      expect(taken).toMatchObject({ ok: false, error: { type: 'EmailTaken' } });
      expect(await commandBus.execute(createUser({ username: 'imposter', email: 'GRACE@example.com' }))).toMatchObject({
        ok: false,
        error: { type: 'EmailTaken' },
      });

      const moved = success(await commandBus.execute(updateUser({ userId: 'u1', email: 'ada@analytical.example', expectedVersion: 2 })));
      expect(moved).toMatchObject({ streamId: 'user-u1', version: 3, changed: true });
      const u1 = await store.readStream('user-u1');
      expect(u1.version).toBe(3);
      expect(u1.events[2]).toMatchObject({ type: 'UserUpdated', streamVersion: 3, data: { userId: 'u1', email: 'ada@analytical.example' } });
      expect((await store.readStream('u1')).version).toBe(0);

      const freed = success(await commandBus.execute(createUser({ username: 'newcomer', email: 'ada@lovelace.example' })));
      expect(freed.streamId).toMatch(/^user-/);
      expect(UUID_V7.test(freed.streamId.slice('user-'.length))).toBe(true);

      if (options.positionsOfThisServer) {
        const projector = createProjector({ store, sinks: storage().sinks, pollIntervalMs: 50 });
        await projector.start();
        try {
          await waitUntil(async () => (await queryBus.execute(getUser('u1'), scope()))?.version === 3, 'u1 at version 3 in the read model');
          expect(await queryBus.execute(getUser('u1'), scope())).toMatchObject({ username: 'ada.l', email: 'ada@analytical.example', version: 3 });
          const newcomer = freed.streamId.slice('user-'.length);
          await waitUntil(async () => (await queryBus.execute(getUser(newcomer), scope())) !== null, 'the new user in the read model');
        } finally {
          await projector.stop();
        }
      }
    });
  });
}

describeUpgrade('SQLite', openSqliteFixture, { positionsOfThisServer: true });

describe.skipIf(postgresUnavailable !== null)('PostgreSQL', () => {
  describeUpgrade('PostgreSQL', openPostgresFixture, { positionsOfThisServer: false });
});
