/**
 * Events that evolve, on the in-memory store (the SQLite and PostgreSQL
 * servers: test/integration/event-versions.e2e.test.ts): release 0.1.0's v1
 * events, loaded as stored, are projected, folded by commands and read at the newest version;
 * a future version halts the projection and answers commands with StreamUnreadable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_START } from '../../src/kernel/position.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { loadRelease010Events } from '../support/release-0.1.0.js';
import { waitUntil } from '../support/wait.js';

let api: InProcessApp | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const USERS = `{ users(first: 10) { edges { node { username version } } } }`;
const usernames = async (app: InProcessApp) => {
  const { body } = await app.gql<{ users: { edges: { node: { username: string; version: number } }[] } }>(USERS);
  return body.data!.users.edges.map(({ node }) => `${node.username}@${node.version}`).sort();
};
const UPDATE = `mutation ($input: UpdateUserInput!) {
  updateUser(input: $input) { __typename ... on Error { message } ... on StreamUnreadable { eventType schemaVersion } ... on UpdateUserSuccess { user { username version } } }
}`;

describe('v1 events on the memory store', () => {
  it('are projected, folded by commands and read by every reader at the newest UserCreated version', async () => {
    api = await createInProcessApp();
    const { store } = api.system;
    await loadRelease010Events(store);
    await waitUntil(async () => (await usernames(api!)).length === 3, 'the fixture users in the read model');
    expect(await usernames(api)).toEqual(['ada.l@2', 'edsger.d@2', 'grace@1']);

    const [created] = (await store.readStream('user-u1')).events;
    expect(created).toMatchObject({ type: 'UserCreated', schemaVersion: 3, data: { userId: 'u1', username: 'ada', createdBy: null } });
    const all = await store.readAll({ after: LOG_START, limit: 10 });
    expect(all.filter((e) => e.type === 'UserCreated').map((e) => [e.schemaVersion, (e.data as { createdBy?: unknown }).createdBy])).toEqual([
      [3, null],
      [3, null],
      [3, null],
    ]);

    const { body } = await api.gql(UPDATE, { input: { id: 'User:u1', username: 'ada.lovelace', expectedVersion: 2 } });
    expect(body.data).toEqual({ updateUser: { __typename: 'UpdateUserSuccess', user: { username: 'ada.lovelace', version: 3 } } });
  });

  it('a future version halts the projection on it and answers commands on its stream with StreamUnreadable', async () => {
    api = await createInProcessApp();
    const { store, projector } = api.system;
    const appended = await store.append({
      streamId: 'user-future',
      expectedVersion: 0,
      events: [{ type: 'UserCreated', schemaVersion: 99, data: { userId: 'future' }, metadata: { occurredAt: new Date().toISOString() } }],
    });
    expect(appended.ok).toBe(true);
    await waitUntil(async () => (await projector.status()).every((p) => p.state === 'halted'), 'the projection to halt');
    const [users] = await projector.status();
    expect(users).toMatchObject({ state: 'halted', lastError: expect.stringMatching(/UserCreated v99 .*up to v3/) });

    const { body } = await api.gql(UPDATE, { input: { id: 'User:future', username: 'renamed' } });
    expect(body.data).toMatchObject({ updateUser: { __typename: 'StreamUnreadable', eventType: 'UserCreated', schemaVersion: 99 } });
    await expect(store.readStream('user-future')).rejects.toThrow(/UserCreated v99/);
  });
});
