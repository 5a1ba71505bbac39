/**
 * The proof of issue 19 §1: a second aggregate (test/support/tallies/, a
 * test-only module) wired in through the same list of modules as users, on
 * every store, with no change under src/. A tally's id may be a user's id:
 * the two streams, and the two projections, never meet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandOutcome, CommandSuccess } from '../../src/kernel/command-bus.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import type { Position } from '../../src/kernel/position.js';
import { createRequestScope } from '../../src/kernel/query-bus.js';
import type { AnyModule, MemoryReadSide } from '../../src/module.js';
import { modules } from '../../src/modules.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/server.js';
import type { StorageOptions } from '../../src/storage.js';
import { createMemoryProjectionSink, type MemoryProjection } from '../../src/stores/memory/projection-sink.js';
import { openSystem, type System } from '../../src/system.js';
import type { CreateUserRequest, UpdateUser } from '../../src/users/decide.js';
import { createMemoryUsersReadModel, usersMemoryProjection } from '../../src/users/read-model/memory.js';
import { createMemoryUserSearchReadModel, userSearchMemoryProjection } from '../../src/users/read-model/search/memory.js';
import { getUser } from '../../src/users/read-model/queries.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { gql } from '../support/server.js';
import { addToTally, openTally } from '../support/tallies/decide.js';
import { talliesModule } from '../support/tallies/module.js';
import { createMemoryTalliesReadModel, talliesMemoryProjection } from '../support/tallies/read-model/memory.js';
import { getTally } from '../support/tallies/read-model/queries.js';
import { TEST_MASTER_KEY_BASE64, testMasterKey } from '../support/master-key.js';

/** The server's own list, and the test-only module beside it. */
const withTallies: readonly AnyModule[] = [...modules, talliesModule];

type OpenedStore = Readonly<{
  storage: StorageOptions;
  /** Settings for a real server on this store; null where the server has no such store (memory). */
  serverEnv: Record<string, string> | null;
  cleanup: () => Promise<void>;
}>;

const temporaryDir = () => mkdtempSync(join(tmpdir(), 'cqrs-graphql-second-module-'));
const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });

const stores: readonly { name: string; unavailable: boolean; open: () => Promise<OpenedStore> }[] = [
  {
    name: 'SQLite',
    unavailable: false,
    open: async () => {
      const dataDir = temporaryDir();
      return { storage: { kind: 'sqlite', dataDir, durability: 'process' }, serverEnv: { DATA_DIR: dataDir }, cleanup: async () => removeDir(dataDir) };
    },
  },
  {
    name: 'PostgreSQL',
    unavailable: postgresUnavailable !== null,
    open: async () => {
      const database = await createTestDatabase('tallies');
      const dataDir = temporaryDir();
      return {
        storage: { kind: 'postgres', url: database.url, poolSize: 4, masterKey: testMasterKey },
        serverEnv: { DATA_DIR: dataDir, DATABASE_URL: database.url, MASTER_KEY: TEST_MASTER_KEY_BASE64 },
        cleanup: async () => {
          await database.drop();
          removeDir(dataDir);
        },
      };
    },
  },
  { name: 'memory', unavailable: false, open: async () => ({ storage: { kind: 'memory' }, serverEnv: null, cleanup: async () => {} }) },
];

const openWith = (storage: StorageOptions, list: readonly AnyModule[]) =>
  openSystem({
    storage,
    modules: list,
    pollIntervalMs: 50,
    readYourWritesTimeoutMs: 5_000,
    // A projection handed another aggregate's event throws (its stream is not in its category): halt at once.
    projectionMaxRetries: 1,
    logger: createLogger('silent'),
  });

function succeeded(outcome: CommandOutcome): CommandSuccess {
  if (!outcome.ok) throw new Error(`Command rejected: ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

/** Users and tallies written turn about, with ids that coincide; returns user u1's stream as its last user command left it. */
async function interleavedWrites(system: System) {
  const { commandBus } = system;
  const createUser = (userId: string) =>
    commandBus.execute<CreateUserRequest>({ type: 'CreateUser', data: { userId, username: `name_${userId}`, email: `${userId}@example.com` } });
  const renameUser = (userId: string, username: string) => commandBus.execute<UpdateUser>({ type: 'UpdateUser', data: { userId, username } });

  expect(succeeded(await createUser('u1')).streamId).toBe('user-u1');
  succeeded(await renameUser('u1', 'alice'));
  const userStream = await system.store.readStream('user-u1');

  expect(succeeded(await commandBus.execute(openTally('u1')))).toMatchObject({ streamId: 'tally-u1', version: 1 });
  succeeded(await createUser('u2'));
  succeeded(await commandBus.execute(addToTally('u1', 2)));
  succeeded(await commandBus.execute(openTally('u2')));
  succeeded(await renameUser('u2', 'bob'));
  expect(succeeded(await commandBus.execute(addToTally('u1', 3)))).toMatchObject({ streamId: 'tally-u1', version: 3 });
  return { userStream };
}

/** Every projection has passed the head of the log, is running and has nothing left to apply. */
async function expectProjectionsCaughtUp(system: System) {
  // Everything committed, not only what reads see yet: on PostgreSQL a transaction of another test in the
  // cluster can hold back the last events, and the visible head would be reached before they are projected.
  expect(await system.projector.waitFor(await system.store.lastCommittedPosition(), 10_000)).toBe(true);
  const status = await system.projector.status();
  expect(status.map(({ name, state, lag }) => ({ name, state, lag })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
    { name: 'tallies', state: 'running', lag: 0 },
    { name: 'user-search', state: 'running', lag: 0 },
    { name: 'users', state: 'running', lag: 0 },
  ]);
}

/** The positions of these streams' events. */
async function positionsOf(system: System, streamIds: readonly string[]): Promise<Set<Position>> {
  const slices = await Promise.all(streamIds.map((streamId) => system.store.readStream(streamId)));
  return new Set(slices.flatMap((slice) => slice.events.map((event) => event.position)));
}

/**
 * The list with every projection recording the events it is handed. On
 * SQLite and PostgreSQL the projections are wrapped in place. A module's
 * memory read side is a closure that builds its projection inside, so it is
 * rebuilt here from the same exported parts the module uses.
 */
function recordingModules(list: readonly AnyModule[], record: (projection: string, events: readonly StoredEvent[]) => void): AnyModule[] {
  function memorySide<Rows, ReadModel>(projection: MemoryProjection<Rows>, readModel: (rows: Rows, onQuery: () => void) => ReadModel): MemoryReadSide<ReadModel> {
    return (onQuery) => {
      const { sink, rows } = createMemoryProjectionSink({
        ...projection,
        apply: (current, events) => {
          record(projection.name, events);
          return projection.apply(current, events);
        },
      });
      return { sinks: [sink], readModel: readModel(rows, onQuery) };
    };
  }
  const memorySides: Readonly<Record<string, MemoryReadSide<unknown>>> = {
    users: (onQuery) => {
      const users = memorySide(usersMemoryProjection, createMemoryUsersReadModel)(onQuery);
      const search = memorySide(userSearchMemoryProjection, createMemoryUserSearchReadModel)(onQuery);
      return { sinks: [...users.sinks, ...search.sinks], readModel: { ...users.readModel, ...search.readModel } };
    },
    tallies: memorySide(talliesMemoryProjection, createMemoryTalliesReadModel),
  };
  return list.map((module) => {
    const memory = memorySides[module.name];
    if (!memory) throw new Error(`No recording memory read side for module ${module.name}`);
    return {
      ...module,
      sqlite: {
        ...module.sqlite,
        projections: module.sqlite.projections.map((projection) => ({
          ...projection,
          apply: (db, events) => {
            record(projection.name, events);
            projection.apply(db, events);
          },
        })),
      },
      postgres: {
        ...module.postgres,
        projections: module.postgres.projections.map((projection) => ({
          ...projection,
          write: (events, rows) => {
            record(projection.name, events);
            return projection.write(events, rows);
          },
        })),
      },
      memory,
    };
  });
}

for (const store of stores) {
  describe.skipIf(store.unavailable)(`a second module beside users, on ${store.name}`, () => {
    let opened: OpenedStore;
    const closing: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      opened = await store.open();
    });
    afterEach(async () => {
      for (const close of closing.splice(0).reverse()) await close();
      await opened.cleanup();
    });

    const open = async (list: readonly AnyModule[]) => {
      const system = await openWith(opened.storage, list);
      closing.push(() => system.close());
      await system.projector.start();
      return system;
    };

    it("keeps a tally whose id is a user's id in its own stream, and both queries answer", async () => {
      const system = await open(withTallies);
      const { userStream } = await interleavedWrites(system);

      expect(await system.commandBus.execute(openTally('u1'))).toMatchObject({ ok: false, error: { type: 'TallyAlreadyOpen', tallyId: 'u1' } });
      expect(await system.commandBus.execute(addToTally('u3', 1))).toMatchObject({ ok: false, error: { type: 'TallyNotFound', tallyId: 'u3' } });
      expect(await system.commandBus.execute(addToTally('u1', 0))).toMatchObject({
        ok: false,
        error: { type: 'ValidationError', fields: [{ field: 'amount' }] },
      });

      expect(await system.store.readStream('user-u1')).toStrictEqual(userStream);
      expect(userStream.version).toBe(2);
      const tallyStream = await system.store.readStream('tally-u1');
      expect(tallyStream.events.map(({ streamId, streamVersion, type, data }) => ({ streamId, streamVersion, type, data }))).toEqual([
        { streamId: 'tally-u1', streamVersion: 1, type: 'TallyOpened', data: { tallyId: 'u1' } },
        { streamId: 'tally-u1', streamVersion: 2, type: 'TallyIncremented', data: { tallyId: 'u1', amount: 2 } },
        { streamId: 'tally-u1', streamVersion: 3, type: 'TallyIncremented', data: { tallyId: 'u1', amount: 3 } },
      ]);

      await expectProjectionsCaughtUp(system);
      const scope = createRequestScope();
      expect(await system.queryBus.execute(getUser('u1'), scope)).toMatchObject({ id: 'u1', username: 'alice', version: 2 });
      expect(await system.queryBus.execute(getUser('u2'), scope)).toMatchObject({ id: 'u2', username: 'bob', version: 2 });
      expect(await system.queryBus.execute(getTally('u1'), scope)).toEqual({ id: 'u1', total: 5, version: 3 });
      expect(await system.queryBus.execute(getTally('u2'), scope)).toEqual({ id: 'u2', total: 0, version: 1 });
      expect(await system.queryBus.execute(getTally('u3'), scope)).toBeNull();
    });

    it('hands each projection exactly its own events, and every other event to neither', async () => {
      const seen = new Map<string, StoredEvent[]>();
      const record = (projection: string, events: readonly StoredEvent[]) => seen.set(projection, [...(seen.get(projection) ?? []), ...events]);
      const system = await open(recordingModules(withTallies, record));
      await interleavedWrites(system);
      await expectProjectionsCaughtUp(system);

      expect([...seen.keys()].sort()).toEqual(['tallies', 'user-search', 'users']);
      const positions = (projection: string) => new Set(seen.get(projection)!.map((event) => event.position));
      // Sets: a batch a projection had to apply again (a lost checkpoint race) is the same events again, not new ones.
      expect(positions('users')).toEqual(await positionsOf(system, ['user-u1', 'user-u2']));
      expect(positions('user-search')).toEqual(positions('users'));
      expect(positions('tallies')).toEqual(await positionsOf(system, ['tally-u1', 'tally-u2']));
      expect(new Set(seen.get('users')!.map((event) => event.type))).toEqual(new Set(['UserCreated', 'UserUpdated']));
      expect(new Set(seen.get('tallies')!.map((event) => event.type))).toEqual(new Set(['TallyOpened', 'TallyIncremented']));
    });

    if (store.name !== 'memory') {
      it('serves both through the real server: GraphQL over HTTP, same list of modules', async () => {
        const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', PROJECTION_MAX_RETRIES: '1', ...opened.serverEnv });
        const server = await startServer(config, { logger: createLogger(config.LOG_LEVEL), modules: withTallies });
        closing.push(() => server.close());
        const { system } = server;

        const created = await gql(server.url, 'mutation { createUser(input: { id: "u1", username: "alice", email: "alice@example.com" }) { __typename } }');
        expect(created.body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });

        const common = `__typename ... on Error { message } ... on ValidationError { fields { field } }`;
        const openTallyOp = `mutation ($id: ID!) {
          openTally(id: $id) { ${common} ... on OpenTallySuccess { tally { id total version } } ... on TallyAlreadyOpen { tallyId } }
        }`;
        const addOp = `mutation ($id: ID!, $amount: Int!) {
          addToTally(id: $id, amount: $amount) { ${common} ... on AddToTallySuccess { tally { id total version } } ... on TallyNotFound { tallyId } }
        }`;

        expect((await gql(server.url, openTallyOp, { id: 'u1' })).body).toEqual({
          data: { openTally: { __typename: 'OpenTallySuccess', tally: { id: 'u1', total: 0, version: 1 } } },
        });
        // Interleaved: a user event between the tally's own, so a projection handed the other's events would halt here.
        const renamed = await gql(server.url, 'mutation { updateUser(input: { id: "User:u1", username: "alice2" }) { __typename } }');
        expect(renamed.body).toEqual({ data: { updateUser: { __typename: 'UpdateUserSuccess' } } });
        const userStream = await system.store.readStream('user-u1');
        expect((await gql(server.url, addOp, { id: 'u1', amount: 4 })).body).toEqual({
          data: { addToTally: { __typename: 'AddToTallySuccess', tally: { id: 'u1', total: 4, version: 2 } } },
        });
        expect((await gql(server.url, openTallyOp, { id: 'u1' })).body.data).toMatchObject({
          openTally: { __typename: 'TallyAlreadyOpen', tallyId: 'u1', message: 'The tally "u1" is already open' },
        });
        expect((await gql(server.url, addOp, { id: 'ghost', amount: 1 })).body.data).toMatchObject({
          addToTally: { __typename: 'TallyNotFound', tallyId: 'ghost' },
        });
        expect((await gql(server.url, addOp, { id: 'u1', amount: -1 })).body.data).toMatchObject({
          addToTally: { __typename: 'ValidationError', fields: [{ field: 'amount' }] },
        });

        const read = await gql(server.url, '{ user(id: "User:u1") { id username version } tally(id: "u1") { id total version } }');
        expect(read.body).toEqual({
          data: { user: { id: 'User:u1', username: 'alice2', version: 2 }, tally: { id: 'u1', total: 4, version: 2 } },
          extensions: { position: expect.any(String) },
        });
        expect(await system.store.readStream('user-u1')).toStrictEqual(userStream);
        expect((await system.store.readStream('tally-u1')).version).toBe(2);
        await expectProjectionsCaughtUp(system);
      });
    }
  });
}
