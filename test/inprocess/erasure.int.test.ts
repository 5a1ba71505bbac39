/**
 * What every reader shows of an erased user whose stream reads redacted: once
 * a user's key is destroyed, the store hands out the personal fields of their
 * events as null (README "Erasure"). Here such a stream is written as the
 * store reads it, on the in-memory store, and read through the GraphQL API:
 * `user`, `node`, `users`, history with each event's state, time travel to
 * every version, and the events feed. All answer with null fields and
 * `erased: true`, and never with an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErasedUserAsOfDocument, ErasedUserDocument, ErasureAuditEventsDocument, ErasureUsersPageDocument } from '../gql/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { waitUntil } from '../support/wait.js';

let api: InProcessApp;
const occurredAt = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

beforeAll(async () => {
  api = await createInProcessApp();
  // As the store reads a user erased after a rename: stored versions older than the newest too.
  const appended = await api.system.store.append({
    streamId: 'user-shredded',
    expectedVersion: 0,
    events: [
      { type: 'UserCreated', schemaVersion: 2, data: { userId: 'shredded', username: null, email: null, createdBy: null }, metadata: { occurredAt: occurredAt(1) } },
      { type: 'UserUpdated', schemaVersion: 1, data: { userId: 'shredded', username: null }, metadata: { occurredAt: occurredAt(2) } },
      { type: 'UserErased', data: { userId: 'shredded', erasedBy: 'root' }, metadata: { occurredAt: occurredAt(3) } },
    ],
  });
  if (!appended.ok) throw new Error(JSON.stringify(appended.error));
  await waitUntil(async () => (await api.execute(ErasedUserDocument, { id: 'User:shredded' })).data?.user != null, 'the erased user in the read model');
});
afterAll(async () => {
  await api?.close();
});

describe('a user whose stream reads redacted', () => {
  it('is erased in `user` and `node`, with null personal fields', async () => {
    const { data, errors } = await api.execute(ErasedUserDocument, { id: 'User:shredded' });
    expect(errors).toBeUndefined();
    expect(data!.user).toMatchObject({ id: 'User:shredded', username: null, email: null, erased: true, version: 3 });
    expect(data!.node).toEqual({ __typename: 'User', username: null, email: null, erased: true });
  });

  it('shows every event of its history with null personal fields, and every state erased', async () => {
    const { data, errors } = await api.execute(ErasedUserDocument, { id: 'User:shredded' });
    expect(errors).toBeUndefined();
    expect(data!.user!.history.edges.map((edge) => edge.node)).toEqual([
      { __typename: 'UserCreated', version: 1, username: null, email: null, state: { username: null, email: null, erased: true, version: 1 } },
      { __typename: 'UserUpdated', version: 2, changedUsername: null, changedEmail: null, state: { username: null, email: null, erased: true, version: 2 } },
      { __typename: 'UserErased', version: 3, erasedBy: 'User:root', state: { username: null, email: null, erased: true, version: 3 } },
    ]);
  });

  it('travels in time to every version, before the erasure too, as erased with null personal fields', async () => {
    for (const version of [1, 2, 3]) {
      const { data, errors } = await api.execute(ErasedUserAsOfDocument, { id: 'User:shredded', version });
      expect(errors).toBeUndefined();
      expect(data!.user).toEqual({ username: null, email: null, erased: true, version });
    }
  });

  it('is listed by `users` as erased, and its events are in the feed', async () => {
    const page = await api.execute(ErasureUsersPageDocument, {});
    expect(page.errors).toBeUndefined();
    expect(page.data!.users.edges.map((edge) => edge.node)).toContainEqual({ id: 'User:shredded', username: null, erased: true });
    const feed = await api.execute(ErasureAuditEventsDocument, { userId: 'User:shredded' });
    expect(feed.errors).toBeUndefined();
    expect(feed.data!.events.edges.map((edge) => edge.node.__typename)).toEqual(['UserCreated', 'UserUpdated', 'UserErased']);
  });
});
