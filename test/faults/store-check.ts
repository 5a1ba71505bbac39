import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { MasterKey } from '../../src/kernel/crypto/master-key.js';
import type { DataKeys, StoredDataKey } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { createPersonalData } from '../../src/kernel/personal-data.js';
import { LOG_START } from '../../src/kernel/position.js';
import { decodeMasterKey, DEFAULT_KEY_FILE } from '../../src/stores/master-key-source.js';
import { usersModule } from '../../src/users/module.js';
import { testMasterKey } from '../support/master-key.js';
import { expect } from 'vitest';
import { streamIdOf } from '../../src/kernel/stream-id.js';
import { openSqlite } from '../../src/stores/sqlite/database.js';
import { USER_STREAMS, userIdOf } from '../../src/users/user.js';
import { bareUserId } from '../support/graphql.js';
import { gql } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import type { Mutation, Outcome } from './mutation-load.js';

export type LoggedEvent = Readonly<{
  streamId: string;
  streamVersion: number;
  type: string;
  data: { userId: string; username?: string; email?: string };
  key: string | undefined;
}>;

export type Snapshot = Readonly<{ events: readonly LoggedEvent[]; idempotencyKeys: ReadonlySet<string> }>;

/** Where the server under test keeps its log: a SQLite DATA_DIR or a PostgreSQL database. */
export type LogSource = Readonly<{ kind: 'sqlite'; dataDir: string }> | Readonly<{ kind: 'postgres'; url: string }>;

type Row = { stream_id: string; stream_version: number; type: string; data: string | object; metadata: string | object };
const json = <T>(value: string | object) => (typeof value === 'string' ? JSON.parse(value) : value) as T;
type KeyRow = { subject: string; wrapped: Uint8Array | null };

/** The events with their sealed personal fields opened, as the server reads them (the store holds them sealed). */
async function toSnapshot(rows: readonly Row[], keys: readonly { key: string }[], dataKeys: readonly KeyRow[], master: MasterKey): Promise<Snapshot> {
  const stored = new Map(dataKeys.map(({ subject, wrapped }): [string, StoredDataKey] => [subject, wrapped === null ? 'destroyed' : new Uint8Array(wrapped)]));
  const keyReader: DataKeys = {
    readDataKeys: async (subjects) => new Map(subjects.flatMap((subject): [string, StoredDataKey][] => (stored.has(subject) ? [[subject, stored.get(subject)!]] : []))),
    ensureKeyCheck: () => Promise.reject(new Error('read only')),
  };
  const events = await createPersonalData(master, [usersModule.personalData!]).openEvents(
    keyReader,
    rows.map((row): StoredEvent => ({
      position: LOG_START,
      streamId: row.stream_id,
      streamVersion: row.stream_version,
      type: row.type,
      schemaVersion: 1,
      data: json<object>(row.data),
      metadata: json<StoredEvent['metadata']>(row.metadata),
    })),
  );
  return {
    events: events.map((event) => ({
      streamId: event.streamId,
      streamVersion: event.streamVersion,
      type: event.type,
      data: event.data as LoggedEvent['data'],
      key: event.metadata.idempotencyKey,
    })),
    idempotencyKeys: new Set(keys.map((k) => k.key)),
  };
}

/** The key the server under test was given: the tests' fixed one on PostgreSQL, the generated default on SQLite. */
const masterKeyOf = (source: LogSource): MasterKey =>
  source.kind === 'postgres' ? testMasterKey : decodeMasterKey(readFileSync(join(source.dataDir, DEFAULT_KEY_FILE)), 'DATA_DIR/master.key');

/** The event log and the idempotency records as they are on disk, read through a separate connection. */
export async function readEventLog(source: LogSource): Promise<Snapshot> {
  if (source.kind === 'postgres') {
    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    try {
      const rows = (await client.query<Row>('SELECT stream_id, stream_version, type, data, metadata FROM events ORDER BY transaction_id, position')).rows;
      const dataKeys = (await client.query<KeyRow>('SELECT subject, wrapped FROM data_keys')).rows;
      return toSnapshot(rows, (await client.query<{ key: string }>('SELECT key FROM idempotency_records')).rows, dataKeys, masterKeyOf(source));
    } finally {
      await client.end();
    }
  }
  const db = openSqlite(join(source.dataDir, 'events.db'), { readonly: true });
  try {
    const rows = db.prepare<[], Row>('SELECT stream_id, stream_version, type, data, metadata FROM events ORDER BY position').all();
    const dataKeys = db.prepare<[], KeyRow>('SELECT subject, wrapped FROM data_keys').all();
    return toSnapshot(rows, db.prepare<[], { key: string }>('SELECT key FROM idempotency_records').all(), dataKeys, masterKeyOf(source));
  } finally {
    db.close();
  }
}

type Health = { projections: { name: string; state: string; lag: number }[] };

/** Waits until every projection has applied every event in the store. */
export async function waitForCatchUp(url: string): Promise<void> {
  await waitUntil(async () => {
    const response = await fetch(new URL('/health', url));
    const { projections } = (await response.json()) as Health;
    return projections.every((p) => p.state === 'running' && p.lag === 0);
  }, 'the projections to catch up');
}

export type UserNode = Readonly<{ id: string; username: string; email: string; version: number }>;

/** Every user in the read model, paged through `users` in creation order. */
export async function readModelUsers(url: string): Promise<{ users: UserNode[]; totalCount: number }> {
  const users: UserNode[] = [];
  let after: string | null = null;
  let totalCount = 0;
  type Page = { users: { totalCount: number; edges: { cursor: string; node: UserNode }[]; pageInfo: { hasNextPage: boolean } } };
  for (;;) {
    const { body }: { body: { data?: Page } } = await gql<Page>(
      url,
      'query($after: String) { users(first: 100, after: $after) { totalCount edges { cursor node { id username email version } } pageInfo { hasNextPage } } }',
      { after },
    );
    if (!body.data) throw new Error(JSON.stringify(body));
    totalCount = body.data.users.totalCount;
    // Compared with the user ids of the log's streams: the API answers with global ids.
    users.push(...body.data.users.edges.map(({ node }) => ({ ...node, id: bareUserId(node.id) })));
    if (!body.data.users.pageInfo.hasNextPage) return { users, totalCount };
    after = body.data.users.edges.at(-1)!.cursor;
  }
}

/** The users the event log says exist, folded the way the read model should have. */
export function foldUsers(events: readonly LoggedEvent[]): UserNode[] {
  const users = new Map<string, UserNode>();
  for (const event of events) {
    const userId = userIdOf(event);
    const before = users.get(userId);
    if (event.type === 'UserCreated') {
      expect(before, `${userId} created twice`).toBeUndefined();
      users.set(userId, { id: userId, username: event.data.username!, email: event.data.email!, version: event.streamVersion });
    } else {
      expect(before, `${userId} updated before its creation`).toBeDefined();
      users.set(userId, {
        ...before!,
        username: event.data.username ?? before!.username,
        email: event.data.email ?? before!.email,
        version: event.streamVersion,
      });
    }
  }
  return [...users.values()];
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The event a mutation must have appended, matching its input exactly. */
function expectEventOf(mutation: Mutation, event: LoggedEvent | undefined): void {
  const expected =
    mutation.kind === 'create'
      ? { streamId: streamIdOf(USER_STREAMS, mutation.userId), streamVersion: 1, type: 'UserCreated', data: { userId: mutation.userId, username: mutation.username, email: mutation.email } }
      : { streamId: streamIdOf(USER_STREAMS, mutation.userId), type: 'UserUpdated', data: { userId: mutation.userId, username: mutation.username } };
  expect(event, `${mutation.key} has no event`).toMatchObject({ ...expected, key: mutation.key });
}

/**
 * The crash-safety properties, for every mutation sent so far:
 * - the log holds each mutation at most once, each stream's versions are 1..n;
 * - every acknowledged mutation is there, as it was answered (same stream version);
 * - an unanswered one is wholly there (its event and its idempotency record) or wholly absent;
 * - the read model (after catch-up) is exactly the fold of the log: each user once, at its last version.
 */
export async function checkStore(url: string, source: LogSource, outcomes: readonly Outcome[]): Promise<{ unansweredButStored: number }> {
  await waitForCatchUp(url);
  const { events, idempotencyKeys } = await readEventLog(source);

  const byKey = new Map<string, LoggedEvent[]>();
  for (const event of events) {
    expect(event.key, `event ${event.streamId}@${event.streamVersion} has no idempotency key`).toBeDefined();
    byKey.set(event.key!, [...(byKey.get(event.key!) ?? []), event]);
  }
  for (const [key, found] of byKey) expect(found, `${key} applied more than once`).toHaveLength(1);
  const streams = new Map<string, number[]>();
  for (const event of events) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event.streamVersion]);
  for (const [streamId, versions] of streams) {
    expect(versions, `versions of ${streamId}`).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  }

  let unansweredButStored = 0;
  const sentKeys = new Set<string>();
  for (const outcome of outcomes) {
    const { mutation } = outcome;
    sentKeys.add(mutation.key);
    const stored = byKey.get(mutation.key)?.[0];
    switch (outcome.status) {
      case 'acknowledged':
        expectEventOf(mutation, stored);
        expect(stored!.streamVersion, `${mutation.key}: version answered`).toBe(outcome.version);
        expect(idempotencyKeys.has(mutation.key), `${mutation.key}: idempotency record`).toBe(true);
        break;
      case 'unanswered':
        if (stored) {
          unansweredButStored += 1;
          expectEventOf(mutation, stored);
        }
        expect(idempotencyKeys.has(mutation.key), `${mutation.key}: idempotency record iff event`).toBe(stored !== undefined);
        break;
      case 'answered':
        throw new Error(`${mutation.key} was answered without success: ${JSON.stringify(outcome.body)}`);
    }
  }
  // Nothing in the log that no client sent.
  for (const key of byKey.keys()) expect(sentKeys.has(key), `event with unknown key ${key}`).toBe(true);

  const { users, totalCount } = await readModelUsers(url);
  const folded = foldUsers(events);
  expect([...users].sort(byId)).toEqual(folded.sort(byId));
  expect(new Set(users.map((u) => u.id)).size).toBe(users.length);
  expect(totalCount).toBe(folded.length);
  return { unansweredButStored };
}
