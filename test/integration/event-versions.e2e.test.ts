/**
 * Events that evolve (issue 20, §3), against the real server on SQLite and,
 * in the `postgres` project, on PostgreSQL: release 0.1.0's UserCreated v1
 * events work everywhere after the change to v2 (`createdBy`); new events are
 * stored at v2 with the actor from the token; an event this server cannot
 * read (a future version, a failing upcaster) halts the projections on it and
 * answers commands on its stream with StreamUnreadable, skipping nothing.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'graphql';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyModule } from '../../src/module.js';
import { rebuildProjection } from '../../src/kernel/rebuild.js';
import { upcaster } from '../../src/kernel/upcasting.js';
import { modules } from '../../src/modules.js';
import { openStorage, type StorageOptions } from '../../src/storage.js';
import { sealStoreInPlace } from '../../src/stores/seal-stored-events.js';
import { userEventVersions } from '../../src/users/event-schemas.js';
import { usersModule } from '../../src/users/module.js';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { createTestDatabase } from '../support/postgres.js';
import { loadRelease010Events } from '../support/release-0.1.0.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';
import { testMasterKey } from '../support/master-key.js';

const SECRET = randomBytes(32).toString('base64url');
const AUTH_ENV = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
const token = (subject: string, admin = false) =>
  signToken(new TextEncoder().encode(SECRET), subject, admin ? { claims: { roles: ['admin'] } } : {}).then(bearer);
const onPostgres = process.env['TEST_STORE'] === 'postgres';

/** A store of the kind under test that outlives server restarts. */
type Store = Readonly<{
  options: StorageOptions;
  /** Settings that point a server at it (PostgreSQL) beside its dataDir (SQLite). */
  env: Record<string, string>;
  dataDir: string;
  /** `<type> v<schema version>` of every stored event, sorted: what was written, not what readers see. */
  stored: () => Promise<string[]>;
  drop: () => Promise<void>;
}>;

async function emptyStore(): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-event-versions-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (!onPostgres) {
    return {
      options: { kind: 'sqlite', dataDir, durability: 'process' },
      env: {},
      dataDir,
      stored: async () => {
        const db = new Database(join(dataDir, 'events.db'), { readonly: true });
        try {
          return db.prepare<[], { v: string }>("SELECT type || ' v' || schema_version AS v FROM events").all().map((row) => row.v).sort();
        } finally {
          db.close();
        }
      },
      drop: async () => removeDir(),
    };
  }
  const database = await createTestDatabase('event_versions');
  return {
    options: { kind: 'postgres', url: database.url, poolSize: 2, masterKey: testMasterKey },
    env: { DATABASE_URL: database.url },
    dataDir,
    stored: async () => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ v: string }>("SELECT type || ' v' || schema_version AS v FROM events");
        return rows.map((row) => row.v).sort();
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      await database.drop();
      removeDir();
    },
  };
}

/**
 * Release 0.1.0's events, all UserCreated/UserUpdated v1: on SQLite the
 * committed store itself (a copy), on PostgreSQL the same events from
 * events.json (the committed dump's positions belong to another cluster).
 */
async function release010Store(): Promise<Store> {
  const store = await emptyStore();
  if (store.options.kind === 'sqlite') {
    cpSync(new URL('../fixtures/release-0.1.0/sqlite/', import.meta.url), store.dataDir, { recursive: true });
    // Its events hold names and emails in plaintext, which a server refuses until `npm run migrate` seals them in place:
    // its two steps, as the command runs them (the sealing leaves every event's type and schema version as they were).
    await (await openStorage(store.options, modules)).close();
    await sealStoreInPlace(store.options, modules);
  } else {
    const storage = await openStorage(store.options, modules);
    await loadRelease010Events(storage.store).finally(() => storage.close());
  }
  return store;
}

/** Replays the whole log into every read model, as `npm run rebuild` does. */
async function rebuild(store: Store, with_: readonly AnyModule[] = modules) {
  const storage = await openStorage(store.options, with_);
  try {
    for (const sink of storage.sinks) await rebuildProjection(storage.store, sink);
  } finally {
    await storage.close();
  }
}

const stores: Store[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const store of stores.splice(0)) await store.drop();
});
const track = (store: Store) => (stores.push(store), store);
async function serve(store: Store, options: { modules?: readonly AnyModule[] } = {}) {
  const server = await startTestServer({
    dataDir: store.dataDir,
    env: { ...AUTH_ENV, ...store.env, PROJECTION_POLL_INTERVAL_MS: '50', READ_YOUR_WRITES_TIMEOUT_MS: '2000' },
    ...(options.modules ? { modules: options.modules } : {}),
  });
  servers.push(server);
  return server;
}
const stop = async (server: TestServer) => {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
};

const RESULT_FIELDS = `__typename ... on Error { message } ... on StreamUnreadable { eventType schemaVersion }`;
const CREATE = `mutation ($input: CreateUserInput!) { createUser(input: $input) { ${RESULT_FIELDS} ... on CreateUserSuccess { user { id version } } } }`;
const UPDATE = `mutation ($input: UpdateUserInput!) { updateUser(input: $input) { ${RESULT_FIELDS} ... on UpdateUserSuccess { user { id username version } } } }`;
const USERS = `{ users(first: 10) { edges { node { id username version } } } }`;
const EVENTS = parse(`subscription ($after: String) {
  userEvents(after: $after) { __typename userId version ... on UserCreated { username createdBy } ... on UserUpdated { newUsername: username } }
}`);

type EventResult = { userEvents: { __typename: string; userId: string; version: number; username?: string; newUsername?: string | null; createdBy?: string | null } };

const usernames = async (server: TestServer) => {
  const { body } = await gql<{ users: { edges: { node: { id: string; username: string; version: number } }[] } }>(server.url, USERS);
  return body.data!.users.edges.map(({ node }) => `${node.username}@${node.version}`).sort();
};
const mutate = async (server: TestServer, query: string, input: object, authorization: string) => {
  const { body } = await gql<{ createUser?: Record<string, unknown>; updateUser?: Record<string, unknown> }>(server.url, query, { input }, { authorization });
  expect(body.errors).toBeUndefined();
  return (body.data!.createUser ?? body.data!.updateUser)!;
};
async function projections(server: TestServer) {
  const response = await fetch(new URL('/health', server.url));
  return ((await response.json()) as { projections: { name: string; state: string; haltedAt: string | null; lastError: string | null }[] }).projections;
}
async function allEvents(server: TestServer, authorization: string, count: number) {
  const client = openClient('graphql-ws', server, { authorization });
  try {
    const subscription = client.subscribe<EventResult, { after: string }>(EVENTS, { after: '0' });
    await subscription.waitForResults(count);
    expect(subscription.results.flatMap((r) => r.errors ?? [])).toEqual([]);
    return subscription.data().map((d) => d.userEvents);
  } finally {
    await client.dispose();
  }
}

describe(`release 0.1.0's v1 events after UserCreated became v2 (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('are replayed by a rebuild, served as GraphQL events with createdBy null, and folded by commands; new events are v2 with the actor', { timeout: 60_000 }, async () => {
    const store = track(await release010Store());
    await rebuild(store);
    const server = await serve(store);
    const admin = await token('root', true);

    // The read model, rebuilt from v1 events only.
    expect(await usernames(server)).toEqual(['ada.l@2', 'edsger.d@2', 'grace@1']);

    const replayed = await allEvents(server, admin, 5);
    expect(replayed.map((e) => e.__typename)).toEqual(['UserCreated', 'UserCreated', 'UserCreated', 'UserUpdated', 'UserUpdated']);
    expect(replayed.filter((e) => e.__typename === 'UserCreated').map((e) => [e.userId, e.username, e.createdBy])).toEqual([
      ['User:u1', 'ada', null],
      ['User:user-2', 'grace', null],
      [expect.stringMatching(/^User:/), 'edsger', null],
    ]);

    // The command side folds the v1 history: the version check sees both stored events.
    const renamed = await mutate(server, UPDATE, { id: 'User:u1', username: 'ada.lovelace', expectedVersion: 2 }, admin);
    expect(renamed).toMatchObject({ __typename: 'UpdateUserSuccess', user: { id: 'User:u1', username: 'ada.lovelace', version: 3 } });

    // New users are written at v2, created by the token's subject.
    const alice = await mutate(server, CREATE, { id: 'alice', username: 'alice', email: 'alice@example.com' }, await token('alice'));
    expect(alice).toMatchObject({ __typename: 'CreateUserSuccess', user: { id: 'User:alice', version: 1 } });
    const byAdmin = await mutate(server, CREATE, { id: 'bob', username: 'bob', email: 'bob@example.com' }, admin);
    expect(byAdmin.__typename).toBe('CreateUserSuccess');
    const all = await allEvents(server, admin, 8);
    expect(all.slice(5).map((e) => [e.__typename, e.userId, e.createdBy ?? null])).toEqual([
      ['UserUpdated', 'User:u1', null],
      ['UserCreated', 'User:alice', 'User:alice'],
      ['UserCreated', 'User:bob', 'User:root'],
    ]);
    await waitUntil(async () => (await usernames(server)).length === 5, 'the new users in the read model');
    expect(await usernames(server)).toEqual(['ada.lovelace@3', 'alice@1', 'bob@1', 'edsger.d@2', 'grace@1']);
    await stop(server);

    // Nothing rewrote the stored v1 events; the new ones are at the newest versions.
    expect(await store.stored()).toEqual(['UserCreated v1', 'UserCreated v1', 'UserCreated v1', 'UserCreated v3', 'UserCreated v3', 'UserUpdated v1', 'UserUpdated v1', 'UserUpdated v2']);
    // A rebuild replays the mixed log to the same read model.
    await rebuild(store);
    const again = await serve(store);
    expect(await usernames(again)).toEqual(['ada.lovelace@3', 'alice@1', 'bob@1', 'edsger.d@2', 'grace@1']);
  });
});

/** Appends one UserCreated at `schemaVersion` as if another release had written it (no email claim). */
async function storeUserCreated(store: Store, userId: string, schemaVersion: number, data: object) {
  const storage = await openStorage(store.options, modules);
  try {
    const appended = await storage.store.append({
      streamId: `user-${userId}`,
      expectedVersion: 0,
      events: [{ type: 'UserCreated', schemaVersion, data: { userId, ...data }, metadata: { occurredAt: new Date().toISOString() } }],
    });
    if (!appended.ok) throw new Error(JSON.stringify(appended.error));
  } finally {
    await storage.close();
  }
}

describe(`events this server cannot read (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('a version newer than the server knows: the projections halt on it naming type and version, commands on its stream answer StreamUnreadable', { timeout: 60_000 }, async () => {
    const store = track(await emptyStore());
    const admin = await token('root', true);
    const first = await serve(store);
    expect((await mutate(first, CREATE, { id: 'before', username: 'before', email: 'before@example.com' }, admin)).__typename).toBe('CreateUserSuccess');
    await waitUntil(async () => (await usernames(first)).length === 1, 'the first user in the read model');
    await stop(first);
    await storeUserCreated(store, 'future', 99, { handle: 'from-the-future' });

    const server = await serve(store);
    await waitUntil(async () => (await projections(server)).every((p) => p.state === 'halted'), 'the projections to halt');
    const [users] = await projections(server);
    expect(users!.lastError).toMatch(/UserCreated v99 .*this server knows UserCreated up to v3/);
    expect(users!.haltedAt).not.toBeNull();

    const update = await mutate(server, UPDATE, { id: 'User:future', username: 'renamed' }, admin);
    expect(update).toMatchObject({ __typename: 'StreamUnreadable', eventType: 'UserCreated', schemaVersion: 99 });
    expect(update['message']).toMatch(/UserCreated v99/);
    const create = await mutate(server, CREATE, { id: 'future', username: 'taken', email: 'taken@example.com' }, admin);
    expect(create).toMatchObject({ __typename: 'StreamUnreadable', eventType: 'UserCreated', schemaVersion: 99 });

    // Commands on other streams still work; the halted read model holds what came before the event, and skips nothing after it.
    expect((await mutate(server, CREATE, { id: 'after', username: 'after', email: 'after@example.com' }, admin)).__typename).toBe('CreateUserSuccess');
    expect(await usernames(server)).toEqual(['before@1']);

    // A subscription replaying the log gets every event before it, then ends with an error there rather than skip past it.
    const client = openClient('graphql-ws', server, { authorization: admin });
    try {
      const replay = client.subscribe<EventResult, { after: string }>(EVENTS, { after: '0' });
      await replay.waitForEnd();
      expect(replay.data().map((d) => d.userEvents.userId)).toEqual(['User:before']);
      expect(replay.completed()).toBe(false);
    } finally {
      await client.dispose();
    }
    expect(await store.stored()).toEqual(['UserCreated v3', 'UserCreated v3', 'UserCreated v99']);
  });

  it('a failing upcaster: the projections halt on that event, commands on its stream answer StreamUnreadable, and a fixed server carries on from there', { timeout: 60_000 }, async () => {
    const store = track(await emptyStore());
    const admin = await token('root', true);
    // A bug in a new release's upcaster: it cannot take one of the stored v1 events.
    const [v1, v2] = userEventVersions.schemas;
    const buggy = {
      ...userEventVersions,
      upcasters: [
        upcaster(v1!, v2!, (data) => {
          const stored = data as { username: string };
          if (stored.username === 'poison') throw new Error('cannot upcast this one');
          return { ...stored, createdBy: null };
        }),
        ...userEventVersions.upcasters.filter((u) => !(u.type === 'UserCreated' && u.fromVersion === 1)),
      ],
    };
    const buggyModules = [{ ...usersModule, events: buggy }];
    await storeUserCreated(store, 'fine', 1, { username: 'fine', email: 'fine@example.com' });
    await storeUserCreated(store, 'poisoned', 1, { username: 'poison', email: 'poison@example.com' });
    await storeUserCreated(store, 'later', 1, { username: 'later', email: 'later@example.com' });

    const server = await serve(store, { modules: buggyModules });
    await waitUntil(async () => (await projections(server)).every((p) => p.state === 'halted'), 'the projections to halt');
    expect((await projections(server))[0]!.lastError).toMatch(/UserCreated v1 .*upcaster from v1 failed: cannot upcast this one/);
    expect(await usernames(server)).toEqual(['fine@1']);
    const cure = { id: 'User:poisoned', username: 'cured', idempotencyKey: 'cure-poisoned' };
    expect(await mutate(server, UPDATE, cure, admin)).toMatchObject({ __typename: 'StreamUnreadable', eventType: 'UserCreated', schemaVersion: 1 });
    // Streams the upcaster can read take commands as usual.
    expect((await mutate(server, UPDATE, { id: 'User:later', username: 'later2' }, admin)).__typename).toBe('UpdateUserSuccess');
    await stop(server);

    // The fixed release reads every event: nothing was lost or skipped.
    const fixed = await serve(store);
    await waitUntil(async () => (await usernames(fixed)).length === 3, 'every user in the read model');
    expect(await usernames(fixed)).toEqual(['fine@1', 'later2@2', 'poison@1']);
    // The same request, idempotency key and all, is decided now: the refusal was not remembered as its answer.
    const cured = await mutate(fixed, UPDATE, cure, admin);
    expect(cured).toMatchObject({ __typename: 'UpdateUserSuccess', user: { username: 'cured', version: 2 } });
  });
});
