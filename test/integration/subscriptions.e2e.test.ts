import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  UpdateUserDocument,
  UserDocument,
  UserEventsDocument,
  type CreateUserInput,
  type UpdateUserInput,
  type UserEventsSubscription,
} from '../gql/graphql.js';
import { executeOk, expectType, MASKED_HINT, userStreamId } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports, type Subscription, type SubscriptionClient } from '../support/subscriptions.js';
import type { Position } from '../../src/kernel/position.js';
import { parsed } from '../support/positions.js';
import { waitUntil } from '../support/wait.js';

type UserEvent = UserEventsSubscription['userEvents'];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

let counter = 0;
const fresh = (prefix: string) => {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
};
async function createUser(input: CreateUserInput) {
  return expectType((await executeOk(server.url, CreateUserDocument, { input })).createUser, 'CreateUserSuccess');
}
async function updateUser(input: UpdateUserInput) {
  return expectType((await executeOk(server.url, UpdateUserDocument, { input })).updateUser, 'UpdateUserSuccess');
}
const rename = (id: string) => updateUser({ id, username: `renamed_${++counter}` });

const events = (subscription: Subscription<UserEventsSubscription>): UserEvent[] => subscription.data().map((d) => d.userEvents);
/** This file runs on both stores (the `postgres` vitest project sets TEST_STORE). */
const ON_POSTGRES = process.env['TEST_STORE'] === 'postgres';

/** Positions in the store's own form, which the store's log order sorts as text. */
const positions = (list: readonly { position: string }[]) => list.map((e) => parsed(server.system.store, e.position));

/** Every event the store holds after `after`, optionally of one user: the ground truth a feed must match. */
async function storedAfter(after: string, userId?: string) {
  const { store } = server.system;
  const stored = await store.readAll({ after: parsed(store, after), limit: 100_000, ...(userId ? { streamId: userStreamId(userId) } : {}) });
  return stored.map((e) => e.position);
}

/**
 * A subscription without `after` starts at the head when the server runs its
 * resolver, which the client cannot observe. Poke (append an event it
 * matches) until one arrives: from then on it is live.
 */
async function untilLive(subscription: Subscription<UserEventsSubscription>, poke: () => Promise<unknown>) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const before = subscription.results.length;
    await poke();
    await waitUntil(() => subscription.results.length > before || subscription.ended(), 'a probe event', 250).catch(() => {});
    if (subscription.ended()) throw new Error(`subscription ended: ${JSON.stringify(subscription.error() ?? subscription.results)}`);
    if (subscription.results.length > before) return;
  }
  throw new Error('the subscription never delivered a probe event');
}

describe.each(transports)('userEvents over %s', (transport) => {
  let client: SubscriptionClient;
  beforeAll(() => {
    client = openClient(transport, server);
  });
  afterAll(async () => {
    await client?.dispose();
  });
  const open: Subscription<UserEventsSubscription>[] = [];
  const subscribe = (variables: { userId?: string; after?: string } = {}) => {
    const subscription = client.subscribe(UserEventsDocument, variables);
    open.push(subscription);
    return subscription;
  };
  afterEach(() => {
    for (const subscription of open.splice(0)) subscription.dispose();
  });

  it('delivers live events: UserCreated with its fields, UserUpdated with only the changed ones', async () => {
    const probe = await createUser(fresh('probe'));
    const subscription = subscribe();
    await untilLive(subscription, () => rename(probe.user.id));

    const input = fresh('live');
    const created = await createUser(input);
    const id = created.user.id;
    const renamed = await updateUser({ id, username: `${input.username}_x` });
    const newEmail = fresh('live').email;
    const moved = await updateUser({ id, email: newEmail });
    const unchanged = await updateUser({ id, username: renamed.user.username, email: newEmail });
    expect(unchanged.position).toBe(moved.position);
    const both = await updateUser({ id, ...fresh('both') });

    await waitUntil(() => events(subscription).filter((e) => e.userId === id).length >= 4, 'four events of the new user');
    const mine = events(subscription).filter((e) => e.userId === id);
    expect(mine).toEqual([
      {
        __typename: 'UserCreated',
        userId: id,
        version: 1,
        position: created.position,
        occurredAt: created.user.createdAt,
        username: input.username,
        email: input.email,
      },
      {
        __typename: 'UserUpdated',
        userId: id,
        version: 2,
        position: renamed.position,
        occurredAt: renamed.user.updatedAt,
        changedUsername: renamed.user.username,
        changedEmail: null,
      },
      {
        __typename: 'UserUpdated',
        userId: id,
        version: 3,
        position: moved.position,
        occurredAt: moved.user.updatedAt,
        changedUsername: null,
        changedEmail: newEmail,
      },
      {
        __typename: 'UserUpdated',
        userId: id,
        version: 4,
        position: both.position,
        occurredAt: both.user.updatedAt,
        changedUsername: both.user.username,
        changedEmail: both.user.email,
      },
    ]);
    expect(subscription.results.every((r) => r.errors === undefined)).toBe(true);
    expect(subscription.ended()).toBe(false);
  });

  it('with userId, delivers only that user’s events', async () => {
    const a = await createUser(fresh('only_a'));
    const b = await createUser(fresh('only_b'));
    const onlyA = subscribe({ userId: a.user.id, after: b.position });
    const everyone = subscribe({ after: b.position });
    const appended = [];
    for (let i = 0; i < 5; i++) {
      appended.push(await rename(b.user.id));
      appended.push(await rename(a.user.id));
    }
    const last = await rename(a.user.id);
    await waitUntil(() => events(onlyA).some((e) => e.position === last.position), 'the last event of a', 20_000);
    await waitUntil(() => events(everyone).some((e) => e.position === last.position), 'the last event overall', 20_000);

    expect(events(onlyA).every((e) => e.userId === a.user.id)).toBe(true);
    expect(events(onlyA).map((e) => e.version)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(positions(events(onlyA))).toEqual(await storedAfter(b.position, a.user.id));
    expect(positions(events(everyone))).toEqual([...positions(appended), parsed(server.system.store, last.position)]);
  });

  it('resumes after a position: the stored events in order, then live ones, with no gap or duplicate', { timeout: 120_000 }, async () => {
    const a = await createUser(fresh('resume_a'));
    const b = await createUser(fresh('resume_b'));
    const P = b.position;

    // 200 events while nobody listens, 100 for each user.
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => rename(i % 2 === 0 ? a.user.id : b.user.id)));
    }
    expect(await storedAfter(P)).toHaveLength(200);

    // Writers keep appending while the replay runs and after it has switched to live.
    let writing = true;
    const written: Position[] = [];
    const writer = (id: string) =>
      (async () => {
        while (writing) written.push(parsed(server.system.store, (await rename(id)).position));
      })();
    const writers = [writer(a.user.id), writer(b.user.id)];
    const everyone = subscribe({ after: P });
    const onlyA = subscribe({ after: P, userId: a.user.id });
    try {
      await waitUntil(() => events(everyone).length >= 260 && events(onlyA).length >= 130, 'the replay and 60 live events', 60_000);
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    const lastWritten = written.reduce((a, b) => (b > a ? b : a));
    await waitUntil(() => positions(events(everyone)).includes(lastWritten), 'the last written event', 30_000);
    // One more event after everything: it must arrive right after the others, in both feeds.
    const sentinel = await rename(a.user.id);
    await waitUntil(() => events(everyone).some((e) => e.position === sentinel.position), 'the sentinel', 30_000);
    await waitUntil(() => events(onlyA).some((e) => e.position === sentinel.position), 'the sentinel of a', 30_000);

    const expectedAll = await storedAfter(P);
    const expectedA = await storedAfter(P, a.user.id);
    expect(expectedAll.at(-1)).toBe(parsed(server.system.store, sentinel.position));
    expect(positions(events(everyone))).toEqual(expectedAll);
    expect(positions(events(onlyA))).toEqual(expectedA);
    expect(expectedAll).toEqual(expect.arrayContaining(written));
    const versionsA = events(onlyA).map((e) => e.version);
    expect(versionsA).toEqual(Array.from({ length: versionsA.length }, (_, i) => i + 2));
    expect(everyone.results.every((r) => r.errors === undefined) && onlyA.results.every((r) => r.errors === undefined)).toBe(true);
  });

  it('with after: "0", replays a user’s whole stream', async () => {
    const created = await createUser(fresh('whole'));
    const updates = [];
    for (let i = 0; i < 5; i++) updates.push(await rename(created.user.id));
    const subscription = subscribe({ userId: created.user.id, after: '0' });
    await subscription.waitForResults(6);
    expect(positions(events(subscription))).toEqual([created.position, ...updates.map((u) => u.position)].map((p) => parsed(server.system.store, p)));
    expect(events(subscription).map((e) => e.__typename)).toEqual(['UserCreated', ...Array<string>(5).fill('UserUpdated')]);
  });

  it.each<[string, RegExp]>([
    ['garbage', /"after" is not a position/],
    ['-1', /"after" is not a position/],
    ['01', /"after" is not a position/],
    ['1.5', /"after" is not a position/],
    ['', /"after" is not a position/],
    ...(ON_POSTGRES
      ? ([
          ['pg:01.1', /"after" is not a position/],
          ['pg:1.-1', /"after" is not a position/],
          ['pg:1.2.3', /"after" is not a position/],
          ['sqlite:5', /"after" is a position of a SQLite event store; this server uses PostgreSQL/],
          ['pg:999999999.999999999', /"after" is not the position of an event in this event log/],
        ] satisfies [string, RegExp][])
      : ([
          ['sqlite:01', /"after" is not a position/],
          ['sqlite:-1', /"after" is not a position/],
          ['pg:742.1', /"after" is a position of a PostgreSQL event store; this server uses SQLite/],
          ['sqlite:999999999', /"after" is not the position of an event in this event log/],
        ] satisfies [string, RegExp][])),
  ])('refuses after: %j with an error and keeps serving', async (after, expected) => {
    const bad = subscribe({ after });
    await waitUntil(() => bad.ended() || bad.results.length > 0, 'an error');
    const errors = bad.results.flatMap((r) => r.errors ?? []);
    expect(bad.data().filter((d) => d !== null)).toEqual([]);
    expect(errors.length > 0 || bad.error() !== undefined).toBe(true);
    const messages = [...errors.map((e) => e.message), String((bad.error() as Error | undefined)?.message ?? '')].join(' ');
    expect(messages, /Unexpected error|Internal Server Error/.test(messages) ? MASKED_HINT : undefined).toMatch(expected);
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    await bad.waitForEnd();

    const created = await createUser(fresh('after_bad'));
    const good = subscribe({ userId: created.user.id, after: '0' });
    await good.waitForResults(1);
    expect(events(good)[0]).toMatchObject({ userId: created.user.id, version: 1 });
  });

  it('never serves stale data: every update shows its new values', async () => {
    const created = await createUser(fresh('fresh'));
    const subscription = subscribe({ userId: created.user.id, after: created.position });
    const results = [];
    for (let i = 0; i < 10; i++) {
      const change = i % 3 === 0 ? { username: fresh('v').username } : i % 3 === 1 ? { email: fresh('v').email } : fresh('v');
      results.push(await updateUser({ id: created.user.id, ...change, expectedVersion: i + 1 }));
      await subscription.waitForResults(i + 1);
      const event = events(subscription)[i]!;
      expect(event).toMatchObject({ version: i + 2, position: results[i]!.position });
      expect(event.__typename).toBe('UserUpdated');
      if (event.__typename !== 'UserUpdated') continue;
      expect(event.changedUsername ?? null).toBe('username' in change ? change.username : null);
      expect(event.changedEmail ?? null).toBe('email' in change ? change.email : null);
      const { user } = await executeOk(server.url, UserDocument, { id: created.user.id });
      expect(user).toMatchObject({ version: i + 2, ...change });
    }
  });

  it('runs queries and mutations too, with the same context and errors as over HTTP', async () => {
    const input = fresh('over_transport');
    const mutation = client.subscribe(CreateUserDocument, { input });
    await mutation.waitForEnd();
    expect(mutation.completed()).toBe(true);
    const created = expectType(mutation.data()[0]!.createUser, 'CreateUserSuccess');
    expect(created.user).toMatchObject({ ...input, version: 1 });

    const query = client.subscribe(UserDocument, { id: created.user.id });
    await query.waitForEnd();
    expect(query.data()).toEqual([{ user: created.user }]);

    const conflict = client.subscribe(UpdateUserDocument, { input: { id: created.user.id, username: 'nope_nope', expectedVersion: 9 } });
    await conflict.waitForEnd();
    expect(expectType(conflict.data()[0]!.updateUser, 'VersionConflict')).toMatchObject({ expectedVersion: 9, actualVersion: 1 });
  });

  it('disposing idle subscriptions ends their server-side feeds', { timeout: 60_000 }, async () => {
    const target = await createUser(fresh('idle'));
    const other = openClient(transport, server);
    try {
      const many = Array.from({ length: 100 }, () => other.subscribe(UserEventsDocument, { userId: target.user.id, after: target.position }));
      const update = await rename(target.user.id);
      await waitUntil(() => many.every((s) => s.results.length === 1), 'every subscription to receive the update', 30_000);
      for (const s of many) expect(events(s as Subscription<UserEventsSubscription>)[0]?.position).toBe(update.position);
      // Each idle feed now waits for the next append in the server. Over graphql-ws the 100 identical
      // subscriptions are one cohort, which reads one feed for all (src/server/subscription-fanout.ts).
      const feeds = transport === 'graphql-ws' ? 1 : 100;
      const waiting = () => server.system.appended.waiting();
      await waitUntil(() => waiting() >= feeds, `≥ ${feeds} waiting feeds, have ${waiting()}`);
      const whileIdle = waiting();

      for (const s of many) s.dispose();
      await waitUntil(
        () => waiting() <= whileIdle - Math.ceil(feeds * 0.95),
        `the ${feeds} feeds to stop waiting (${whileIdle} while idle, ${waiting()} now)`,
        30_000,
      );
      expect(many.some((s) => s.results.length > 1)).toBe(false);
    } finally {
      await other.dispose();
    }

    // Still serving, live and replay.
    const again = subscribe({ userId: target.user.id, after: target.position });
    const next = await rename(target.user.id);
    await waitUntil(() => events(again).some((e) => e.position === next.position), 'a new subscription to see a new event');
    expect(events(again).map((e) => e.version)).toEqual([2, 3]);
  });
});
