/**
 * The promise of `User.history` and the `events` feed, on the real server
 * (SQLite, and PostgreSQL in the `postgres` project): page through history
 * while writes go on, then subscribe over graphql-ws with
 * `after: pageInfo.endCursor`, and every event of the log arrives exactly
 * once across the two, in order: no gap, no duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventsDocument,
  CreateUserDocument,
  UpdateUserDocument,
  UserEventsDocument,
  UserHistoryDocument,
  type AuditEventsQuery,
  type UserEventsSubscription,
  type UserHistoryQuery,
} from '../gql/graphql.js';
import { executeOk, expectType, userStreamId } from '../support/graphql.js';
import { parsed } from '../support/positions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const createUser = async (id: string) =>
  expectType((await executeOk(server.url, CreateUserDocument, { input: { id, username: `${id}_0`, email: `${id}@example.com` } })).createUser, 'CreateUserSuccess');
let renames = 0;
const rename = async (id: string) =>
  expectType((await executeOk(server.url, UpdateUserDocument, { input: { id, username: `${id}_${(renames += 1)}` } })).updateUser, 'UpdateUserSuccess');

/** Renames `ids` in turn until stopped, as other clients would while someone reads history. */
function keepWriting(ids: readonly string[]) {
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) await rename(ids[i % ids.length]!);
  })();
  return async () => {
    stopped = true;
    await done;
  };
}

/** The positions the store holds (of one stream, or all), in log order: the ground truth. */
async function storedPositions(streamId?: string): Promise<string[]> {
  const { store } = server.system;
  const events = await store.readAll({ after: parsed(store, '0'), limit: 100_000, ...(streamId ? { streamId } : {}) });
  return events.map((event) => store.formatPosition(event.position));
}

describe('paging through history, then following on from its last cursor', () => {
  it('User.history then userEvents(userId, after: endCursor) over graphql-ws: every event of the user once', async () => {
    const id = 'history-follow';
    await createUser(id);
    await createUser('history-other');
    for (let i = 0; i < 12; i++) await rename(id);
    const stopWriting = keepWriting([id, 'history-other']);

    const fromHistory: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const history: NonNullable<UserHistoryQuery['user']>['history'] = (
        await executeOk(server.url, UserHistoryDocument, { id, first: 5, after })
      ).user!.history;
      fromHistory.push(...history.edges.map((edge) => edge.node.position));
      for (const edge of history.edges) expect(edge.cursor).toBe(edge.node.position);
      after = history.pageInfo.endCursor ?? after;
      if (!history.pageInfo.hasNextPage) break;
    }
    expect(fromHistory.length).toBeGreaterThanOrEqual(13);

    const client = openClient('graphql-ws', server);
    try {
      const subscription = client.subscribe(UserEventsDocument, { userId: `User:${id}`, after });
      // Writes go on while the subscription starts: the hand-over happens under load.
      for (let i = 0; i < 5; i++) await rename(id);
      await stopWriting();
      // The last write of the test: once the subscription delivers it, it has delivered everything.
      const finalVersion = (await rename(id)).user.version;
      await waitUntil(
        () => subscription.data().some((d) => d.userEvents.version === finalVersion),
        `the subscription to reach version ${finalVersion}`,
      );
      const followed = subscription.data().map((d: UserEventsSubscription) => d.userEvents.position);
      const all = await storedPositions(userStreamId(`User:${id}`));
      expect([...fromHistory, ...followed]).toEqual(all);
      expect(subscription.data().map((d) => d.userEvents.userId).every((userId) => userId === `User:${id}`)).toBe(true);
      expect(subscription.results.every((result) => result.errors === undefined)).toBe(true);
      subscription.dispose();
    } finally {
      await stopWriting();
      await client.dispose();
    }
  });

  it('the events feed then userEvents(after: endCursor): every event of the log once', async () => {
    const ids = ['feed-a', 'feed-b'];
    for (const id of ids) await createUser(id);
    const stopWriting = keepWriting(ids);

    const fromFeed: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 1_000; pages++) {
      const events: AuditEventsQuery['events'] = (await executeOk(server.url, AuditEventsDocument, { first: 7, after })).events;
      fromFeed.push(...events.edges.map((edge) => edge.cursor));
      after = events.pageInfo.endCursor ?? after;
      if (!events.pageInfo.hasNextPage) break;
    }

    const client = openClient('graphql-ws', server);
    try {
      const subscription = client.subscribe(UserEventsDocument, { after });
      for (let i = 0; i < 5; i++) await rename('feed-a');
      await stopWriting();
      const { position: last } = await rename('feed-b');
      await waitUntil(() => subscription.data().some((d) => d.userEvents.position === last), `the subscription to reach ${last}`);
      const followed = subscription.data().map((d) => d.userEvents.position);
      expect([...fromFeed, ...followed]).toEqual(await storedPositions());
      subscription.dispose();
    } finally {
      await stopWriting();
      await client.dispose();
    }
  });
});

describe('bad positions', () => {
  it('refuses a position of the other kind of store with today’s wording, naming the argument', async () => {
    const other = process.env['TEST_STORE'] === 'postgres' ? { text: 'sqlite:3', name: 'SQLite', own: 'PostgreSQL' } : { text: 'pg:1.1', name: 'PostgreSQL', own: 'SQLite' };
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($after: String) { events(after: $after) { edges { cursor } } }', variables: { after: other.text } }),
    });
    const body = (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] };
    expect(body.errors?.map((e) => [e.extensions?.['code'], e.extensions?.['argument'], e.message])).toEqual([
      ['BAD_USER_INPUT', 'after', `"after" is a position of a ${other.name} event store; this server uses ${other.own}`],
    ]);
  });
});
