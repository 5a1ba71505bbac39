import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';

/**
 * A user event's `user` (the user now, never older than the event) and
 * `state` (the user as the event left it). Runs on both stores.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type EventWithUsers = {
  userEvents: {
    __typename: string;
    version: number;
    position: string;
    userId: string;
    user: { id: string; username: string; version: number };
    state: { userId: string; username: string; version: number };
  };
};
const document = <T>(text: string) => parse(text) as unknown as TypedDocumentNode<T, Record<string, unknown>>;
const WITH_USERS = document<EventWithUsers>(`subscription($after: String, $userId: ID) {
  userEvents(after: $after, userId: $userId) {
    __typename version position userId
    user { id username version }
    state { userId username version }
  }
}`);

let counter = 0;
async function createUser(): Promise<{ id: string; position: string }> {
  counter += 1;
  const { body } = await gql<{ createUser: { user: { id: string }; position: string } }>(
    server.url,
    `mutation($input: CreateUserInput!) { createUser(input: $input) { ... on CreateUserSuccess { position user { id } } } }`,
    { input: { username: `ev_${counter}`, email: `ev.${counter}@example.com` } },
  );
  return { id: body.data!.createUser.user.id, position: body.data!.createUser.position };
}
async function rename(id: string, username: string): Promise<void> {
  const { body } = await gql<{ updateUser: { __typename: string } }>(
    server.url,
    `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename } }`,
    { input: { id, username } },
  );
  expect(body.data?.updateUser.__typename).toBe('UpdateUserSuccess');
}

describe.each(transports)('user events over %s', (transport) => {
  it('replayed events carry the user as it is now, and the state each event left', async () => {
    const { id } = await createUser();
    await rename(id, `first_${counter}`);
    await rename(id, `second_${counter}`);
    const client = openClient(transport, server);
    try {
      const subscription = client.subscribe(WITH_USERS, { after: '0', userId: id });
      await subscription.waitForResults(3);
      const events = subscription.data().map((d) => d.userEvents);
      // A cache merging `user` from old events never moves back: every replayed event brings version 3.
      expect(events.map((e) => [e.version, e.user.version, e.user.username])).toEqual([
        [1, 3, `second_${counter}`],
        [2, 3, `second_${counter}`],
        [3, 3, `second_${counter}`],
      ]);
      expect(events.map((e) => [e.state.version, e.state.username])).toEqual([
        [1, `ev_${counter}`],
        [2, `first_${counter}`],
        [3, `second_${counter}`],
      ]);
      expect(new Set(events.flatMap((e) => [e.userId, e.user.id, e.state.userId]))).toEqual(new Set([id]));
      subscription.dispose();
    } finally {
      await client.dispose();
    }
  });
});

describe('live events', () => {
  it('a live event brings a user at least as new as itself', async () => {
    const { id, position } = await createUser();
    const client = openClient('graphql-ws', server);
    try {
      const subscription = client.subscribe(WITH_USERS, { after: position, userId: id });
      await rename(id, `live_${counter}`);
      await subscription.waitForResults(1);
      const [event] = subscription.data().map((d) => d.userEvents);
      expect(event!.user.version).toBeGreaterThanOrEqual(event!.version);
      expect(event!.state).toEqual({ userId: id, username: `live_${counter}`, version: 2 });
      subscription.dispose();
    } finally {
      await client.dispose();
    }
  });

  it('many subscribers, on different selections, cost one read-model query per event', async () => {
    const { id, position } = await createUser();
    const client = openClient('graphql-ws', server);
    const selections = ['user { id }', 'user { username }', 'user { version }', 'user { id username }', 'user { id version username }'];
    try {
      const subscriptions = selections.map((fields) =>
        client.subscribe(document<{ userEvents: { user: { id?: string } } }>(`subscription($after: String) { userEvents(after: $after) { version ${fields} } }`), {
          after: position,
        }),
      );
      // Subscribed once each has read its (empty) history; then one event goes to all of them.
      await waitUntil(async () => (await subscriptionsActive()) >= selections.length, 'the subscriptions to start');
      const before = server.readModelQueries();
      await rename(id, `shared_${counter}`);
      for (const subscription of subscriptions) await subscription.waitForResults(1);
      // The mutation's own read-your-writes read, and one read shared by every subscriber
      // (on PostgreSQL the two may share one round trip). One read per subscriber would be 6.
      expect(server.readModelQueries() - before).toBeGreaterThanOrEqual(1);
      expect(server.readModelQueries() - before).toBeLessThanOrEqual(2);
      for (const subscription of subscriptions) subscription.dispose();
    } finally {
      await client.dispose();
    }
  });
});

async function subscriptionsActive(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('cqrs_subscriptions_active{transport="ws"}'));
  return Number(line?.split(' ')[1] ?? 0);
}
