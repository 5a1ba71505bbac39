/**
 * `eraseUser` through the real server, with authentication on (HS256) and
 * real clients, on SQLite and (project `postgres`) PostgreSQL: who may
 * erase, what every reader shows afterwards, idempotence, and the email's
 * release. README "Erasure".
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  EraseUserDocument,
  ErasedUserAsOfDocument,
  ErasedUserDocument,
  ErasureAuditEventsDocument,
  ErasureSearchDocument,
  ErasureUserEventsDocument,
  ErasureUsersPageDocument,
  UpdateUserDocument,
} from '../gql/graphql.js';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { execute, expectType } from '../support/graphql.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';

const SECRET = randomBytes(32).toString('base64url');
const secretKey = new TextEncoder().encode(SECRET);

let server: TestServer;
const tokens = {} as Record<'admin' | 'member', string>;
const as = (token: string) => ({ authorization: bearer(token) });
let users = 0;

beforeAll(async () => {
  server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  tokens.admin = await signToken(secretKey, 'root', { claims: { roles: ['admin'] } });
  tokens.member = await signToken(secretKey, 'member');
});
afterAll(async () => {
  await server?.stop();
});

/** A user created and renamed once by an admin: two events, so history has a past before the erasure. */
async function userWithHistory(prefix: string) {
  users += 1;
  const id = `${prefix}-${users}`;
  const email = `${id}@erasure.example`;
  const created = await execute(server.url, CreateUserDocument, { input: { id, username: `${id}-a`, email } }, as(tokens.admin));
  expectType(created.data!.createUser, 'CreateUserSuccess');
  const renamed = await execute(server.url, UpdateUserDocument, { input: { id, username: `${id}-b` } }, as(tokens.admin));
  expectType(renamed.data!.updateUser, 'UpdateUserSuccess');
  return { id, globalId: `User:${id}`, email };
}

const erase = async (id: string, token: string | null = tokens.admin, idempotencyKey?: string) => {
  const response = await execute(server.url, EraseUserDocument, { input: { id, ...(idempotencyKey ? { idempotencyKey } : {}) } }, token ? as(token) : {});
  expect(response.errors).toBeUndefined();
  return response.data!.eraseUser;
};

describe('eraseUser by an admin', () => {
  it('erases the user: user, node, history states, time travel and the events feed show null personal fields and erased, with no error', async () => {
    const user = await userWithHistory('erased');
    const success = expectType(await erase(user.globalId), 'EraseUserSuccess');
    expect(success.user).toEqual({ id: user.globalId, username: null, email: null, erased: true, version: 3 });

    const read = await execute(server.url, ErasedUserDocument, { id: user.globalId }, as(tokens.admin));
    expect(read.errors).toBeUndefined();
    const { user: found, node } = read.data!;
    expect(found).toMatchObject({ id: user.globalId, username: null, email: null, erased: true, version: 3 });
    expect(node).toEqual({ __typename: 'User', username: null, email: null, erased: true });
    const history = found!.history.edges.map((edge) => edge.node);
    expect(history.map((event) => [event.__typename, event.version])).toEqual([
      ['UserCreated', 1],
      ['UserUpdated', 2],
      ['UserErased', 3],
    ]);
    const erasure = expectType(history[2]!, 'UserErased');
    expect(erasure.erasedBy).toBe('User:root');
    expect(erasure.state).toEqual({ username: null, email: null, erased: true, version: 3 });

    // The key is gone, so the past is redacted too: the events before the erasure and every state they fold to.
    expect(history.slice(0, 2)).toEqual([
      expect.objectContaining({ __typename: 'UserCreated', username: null, email: null, state: { username: null, email: null, erased: true, version: 1 } }),
      expect.objectContaining({ __typename: 'UserUpdated', changedUsername: null, state: { username: null, email: null, erased: true, version: 2 } }),
    ]);
    for (const version of [1, 2, 3]) {
      const asOf = await execute(server.url, ErasedUserAsOfDocument, { id: user.globalId, version }, as(tokens.admin));
      expect(asOf.errors).toBeUndefined();
      expect(asOf.data!.user).toEqual({ username: null, email: null, erased: true, version });
    }

    const feed = await execute(server.url, ErasureAuditEventsDocument, { userId: user.globalId }, as(tokens.admin));
    expect(feed.errors).toBeUndefined();
    expect(feed.data!.events.edges.map((edge) => edge.node)).toContainEqual({
      __typename: 'UserErased',
      version: 3,
      erasedBy: 'User:root',
      state: { username: null, email: null, erased: true },
    });
  });

  it('keeps the erased user in `users`, in its place and in `totalCount`, anonymised', async () => {
    const before = await execute(server.url, ErasureUsersPageDocument, {}, as(tokens.admin));
    const user = await userWithHistory('listed');
    expectType(await erase(user.globalId), 'EraseUserSuccess');
    const after = await execute(server.url, ErasureUsersPageDocument, {}, as(tokens.admin));
    expect(after.errors).toBeUndefined();
    expect(after.data!.users.totalCount).toBe(before.data!.users.totalCount + 1);
    expect(after.data!.users.edges.map((edge) => edge.node).at(-1)).toEqual({ id: user.globalId, username: null, erased: true });
  });

  it('is the same success when repeated, and appends nothing', async () => {
    const user = await userWithHistory('twice');
    const first = expectType(await erase(user.globalId), 'EraseUserSuccess');
    const second = expectType(await erase(user.globalId), 'EraseUserSuccess');
    expect(second).toEqual(first);
    // With the same idempotency key as well, and with a new one.
    expect(await erase(user.globalId, tokens.admin, 'erase-once')).toEqual(first);
    expect(await erase(user.globalId, tokens.admin, 'erase-once')).toEqual(first);
    const read = await execute(server.url, ErasedUserDocument, { id: user.globalId }, as(tokens.admin));
    expect(read.data!.user!.history.edges).toHaveLength(3);
  });

  it('answers UserNotFound for a user that does not exist, and ValidationError for an id of another type', async () => {
    expect(await erase('User:nobody-here')).toMatchObject({ __typename: 'UserNotFound', userId: 'User:nobody-here' });
    expect((await erase('Order:1')).__typename).toBe('ValidationError');
  });

  it('releases the email: another user may register it, while before the erasure it was taken', async () => {
    const user = await userWithHistory('email');
    const taken = await execute(server.url, CreateUserDocument, { input: { username: 'newcomer', email: user.email } }, as(tokens.admin));
    expect(taken.data!.createUser.__typename).toBe('EmailTaken');
    expectType(await erase(user.globalId), 'EraseUserSuccess');
    const again = await execute(server.url, CreateUserDocument, { input: { username: 'newcomer', email: user.email.toUpperCase() } }, as(tokens.admin));
    expect(expectType(again.data!.createUser, 'CreateUserSuccess').user).toMatchObject({ email: user.email.toUpperCase(), version: 1 });
  });

  it('leaves nothing to update, and the erased id cannot be created again', async () => {
    const user = await userWithHistory('final');
    expectType(await erase(user.globalId), 'EraseUserSuccess');
    const update = await execute(server.url, UpdateUserDocument, { input: { id: user.globalId, username: 'revived' } }, as(tokens.admin));
    expect(update.data!.updateUser).toMatchObject({ __typename: 'UserNotFound', message: expect.stringMatching(/erased/) });
    const create = await execute(server.url, CreateUserDocument, { input: { id: user.id, username: 'revived', email: 'revived@erasure.example' } }, as(tokens.admin));
    expect(create.data!.createUser.__typename).toBe('UserAlreadyExists');
  });
});

describe('eraseUser by anyone else', () => {
  it('answers Forbidden to a signed-in non-admin, even for their own user, and Unauthenticated without a token; the user stays', async () => {
    const own = await execute(server.url, CreateUserDocument, { input: { id: 'member', username: 'member', email: 'member@erasure.example' } }, as(tokens.member));
    expectType(own.data!.createUser, 'CreateUserSuccess');
    expect((await erase('User:member', tokens.member)).__typename).toBe('Forbidden');
    expect((await erase('User:member', null)).__typename).toBe('Unauthenticated');
    const read = await execute(server.url, ErasedUserDocument, { id: 'User:member' }, as(tokens.admin));
    expect(read.data!.user).toMatchObject({ username: 'member', email: 'member@erasure.example', erased: false, version: 1 });
  });
});

describe('user search', () => {
  it('an erased user leaves the search: no filter finds them, and the count drops', async () => {
    const [kept, gone] = [await userWithHistory('search-kept'), await userWithHistory('search-gone')];
    const search = async () => {
      const response = await execute(server.url, ErasureSearchDocument, { prefix: 'search-' }, as(tokens.admin));
      expect(response.errors).toBeUndefined();
      return response.data!.users;
    };
    const before = await search();
    expect(before.edges.map((edge) => edge.node.id)).toEqual([gone.globalId, kept.globalId]); // by username: "search-gone…" first
    expectType(await erase(gone.globalId), 'EraseUserSuccess');
    const after = await search();
    expect(after.edges.map((edge) => edge.node.id)).toEqual([kept.globalId]);
    expect(after.totalCount).toBe(1);
  });
});

describe('subscriptions', () => {
  for (const transport of transports) {
    it(`${transport}: a subscriber to the user's events sees UserErased, with the user's state erased`, async () => {
      const user = await userWithHistory(`live-${transport}`);
      const client = openClient(transport, server, as(tokens.admin));
      try {
        const subscription = client.subscribe(ErasureUserEventsDocument, { userId: user.globalId, after: '0' });
        await subscription.waitForResults(2);
        expectType(await erase(user.globalId), 'EraseUserSuccess');
        await subscription.waitForResults(3);
        expect(subscription.results.flatMap((result) => result.errors ?? [])).toEqual([]);
        expect(subscription.data()[2]!.userEvents).toEqual({
          __typename: 'UserErased',
          version: 3,
          erasedBy: 'User:root',
          state: { username: null, email: null, erased: true },
        });
      } finally {
        await client.dispose();
      }
    });
  }
});
