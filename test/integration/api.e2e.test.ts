import { readFileSync } from 'node:fs';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  UpdateUserDocument,
  UserDocument,
  UserEventsDocument,
  UserFieldsFragmentDoc,
  UsersDocument,
  type CreateUserInput,
  type UpdateUserInput,
  type UserFieldsFragment,
  type UsersQueryVariables,
} from '../gql/graphql.js';
import { execute, executeOk, expectType, MASKED_HINT } from '../support/graphql.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { parsed } from '../support/positions.js';
import { openClient } from '../support/subscriptions.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

let counter = 0;
/** A fresh, valid username and email for each user a test creates. */
const fresh = (prefix = 'user') => {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
};

async function createUser(input: CreateUserInput, url = server.url) {
  const { createUser } = await executeOk(url, CreateUserDocument, { input });
  return expectType(createUser, 'CreateUserSuccess');
}
async function updateUser(input: UpdateUserInput, url = server.url) {
  const { updateUser } = await executeOk(url, UpdateUserDocument, { input });
  return updateUser;
}
async function getUser(id: string, url = server.url) {
  return (await executeOk(url, UserDocument, { id })).user;
}
const headPosition = () => server.system.store.headPosition();
/** A client position in the store's own form, whose text order is log order. */
const inLog = (position: string) => parsed(server.system.store, position);

/**
 * The versions in the user's event stream, read through a `userEvents`
 * replay from the start of the log. A sentinel update appended afterwards
 * must come right after the last one, so nothing hides between them.
 */
async function streamVersions(userId: string): Promise<number[]> {
  const client = openClient('graphql-ws', server);
  try {
    const subscription = client.subscribe(UserEventsDocument, { userId, after: '0' });
    const current = (await getUser(userId))!.version;
    await subscription.waitForResults(current);
    const sentinel = expectType(await updateUser({ id: userId, username: `sentinel_${++counter}` }), 'UpdateUserSuccess');
    await subscription.waitForResults(current + 1);
    subscription.dispose();
    const events = subscription.data().map((d) => d.userEvents);
    expect(events.at(-1)).toMatchObject({ version: sentinel.user.version, position: sentinel.position });
    expect(subscription.results.every((r) => r.errors === undefined)).toBe(true);
    return events.slice(0, -1).map((e) => e.version);
  } finally {
    await client.dispose();
  }
}

describe('createUser and queries', () => {
  it('creates a user that user(id) and users return', async () => {
    const input = { id: 'alice-1', ...fresh('alice') };
    const created = await createUser(input);
    expect(created.user).toMatchObject({ id: 'User:alice-1', username: input.username, email: input.email, version: 1 });
    expect(created.user.createdAt).toBe(created.user.updatedAt);
    expect(created.position).not.toBe('0');

    // The global id, and the bare id that clients stored before global ids, name the same user.
    expect(await getUser('User:alice-1')).toEqual(created.user);
    expect(await getUser('alice-1')).toEqual(created.user);
    expect(await getUser('nobody-here')).toBeNull();

    const { users } = await executeOk(server.url, UsersDocument, { first: 100 });
    expect(users.edges.map((e) => e.node)).toContainEqual(created.user);
    expect(users.totalCount).toBe(users.edges.length);
  });

  it('generates an id when none is given and trims input', async () => {
    const { username, email } = fresh('trim');
    const created = await createUser({ username: `  ${username} `, email: ` ${email}  ` });
    expect(created.user.id).toMatch(/^User:[0-9a-f-]{36}$/);
    expect(created.user).toMatchObject({ username, email });
    expect(await getUser(created.user.id)).toEqual(created.user);
  });
});

describe('updateUser', () => {
  it('returns the updated user, and an immediate query returns the same (read-your-writes)', async () => {
    const created = await createUser(fresh('ryw'));
    let previous: { position: string; user: UserFieldsFragment } = created;
    for (let i = 1; i <= 20; i++) {
      const username = `ryw_renamed_${counter}_${i}`;
      const updated = expectType(await updateUser({ id: created.user.id, username }), 'UpdateUserSuccess');
      expect(updated.user).toMatchObject({ id: created.user.id, username, email: created.user.email, version: i + 1 });
      expect(inLog(updated.position) > inLog(previous.position)).toBe(true);
      expect(await getUser(created.user.id)).toEqual(updated.user);
      previous = updated;
    }
    const { email } = fresh('ryw');
    const both = expectType(await updateUser({ id: created.user.id, email, expectedVersion: 21 }), 'UpdateUserSuccess');
    expect(both.user).toMatchObject({ email, version: 22, username: previous.user.username });
    expect(await getUser(created.user.id)).toEqual(both.user);
  });

  it('an update that changes nothing appends nothing', async () => {
    const created = await createUser(fresh('same'));
    const head = await headPosition();
    const unchanged = expectType(
      await updateUser({ id: created.user.id, username: created.user.username, email: created.user.email }),
      'UpdateUserSuccess',
    );
    expect(unchanged.position).toBe(created.position);
    expect(unchanged.user).toEqual(created.user);
    expect(await headPosition()).toBe(head);
    const onlyId = expectType(await updateUser({ id: created.user.id }), 'UpdateUserSuccess');
    expect(onlyId.position).toBe(created.position);
    expect(onlyId.user.version).toBe(1);
    expect(await headPosition()).toBe(head);
    expect(await getUser(created.user.id)).toEqual(created.user);
  });

  it('refuses a stale expectedVersion with VersionConflict', async () => {
    const created = await createUser(fresh('occ'));
    expectType(await updateUser({ id: created.user.id, username: `occ_b_${counter}`, expectedVersion: 1 }), 'UpdateUserSuccess');
    const head = await headPosition();
    const conflict = expectType(
      await updateUser({ id: created.user.id, username: `occ_c_${counter}`, expectedVersion: 1 }),
      'VersionConflict',
    );
    expect(conflict).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(conflict.message).toMatch(/version/i);
    const ahead = expectType(await updateUser({ id: created.user.id, username: `occ_d_${counter}`, expectedVersion: 7 }), 'VersionConflict');
    expect(ahead).toMatchObject({ expectedVersion: 7, actualVersion: 2 });
    expect(await headPosition()).toBe(head);
    expect((await getUser(created.user.id))?.version).toBe(2);
  });

  it('refuses an unknown user with UserNotFound', async () => {
    const result = expectType(await updateUser({ id: 'no-such-user', username: 'whoever' }), 'UserNotFound');
    expect(result.userId).toBe('User:no-such-user');
    expect(result.message).toContain('no-such-user');
    expect(await getUser('no-such-user')).toBeNull();
  });

  it('refuses an unknown user with UserNotFound, not VersionConflict, when expectedVersion is given', async () => {
    for (const expectedVersion of [0, 1, 3]) {
      const result = expectType(await updateUser({ id: 'no-such-user', username: 'whoever', expectedVersion }), 'UserNotFound');
      expect(result.userId).toBe('User:no-such-user');
    }
    expect(await getUser('no-such-user')).toBeNull();
  });

  it('the README’s update example, pasted as written, says the user does not exist', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!).find((block) => block.includes('updateUser('));
    expect(example).toContain('id: "USER_ID"');
    const { status, body } = await gql<{ updateUser: { __typename: string; message: string } }>(server.url, example!);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.updateUser).toEqual({ __typename: 'UserNotFound', message: 'No user has id "USER_ID"' });
  });
});

describe('expected failures', () => {
  it('UserAlreadyExists for a taken id', async () => {
    const created = await createUser({ id: `dup-${++counter}`, ...fresh('dup') });
    const { createUser: again } = await executeOk(server.url, CreateUserDocument, { input: { id: created.user.id, ...fresh('dup') } });
    expect(expectType(again, 'UserAlreadyExists').userId).toBe(created.user.id);
    expect(await getUser(created.user.id)).toEqual(created.user);
  });

  it('EmailTaken for the same email in any case, on create and on update', async () => {
    const owner = await createUser(fresh('owner'));
    const shouted = owner.user.email!.toUpperCase();
    const response = await execute(server.url, CreateUserDocument, { input: { ...fresh('thief'), email: shouted } });
    expect(response.status).toBe(200);
    expect(expectType(response.data!.createUser, 'EmailTaken').email).toBe(shouted);

    const other = await createUser(fresh('other'));
    const mixed = owner.user.email!.replace(/^./, (c) => c.toUpperCase());
    const taken = expectType(await updateUser({ id: other.user.id, email: mixed }), 'EmailTaken');
    expect(taken.email).toBe(mixed);
    expect(await getUser(other.user.id)).toEqual(other.user);
  });

  it('a freed email can be claimed again', async () => {
    const first = await createUser(fresh('free'));
    const oldEmail = first.user.email!; // authentication is off: every email is visible
    expectType(await updateUser({ id: first.user.id, email: fresh('free').email }), 'UpdateUserSuccess');
    const second = await createUser({ username: fresh('free').username, email: oldEmail.toUpperCase() });
    expect(second.user.email).toBe(oldEmail.toUpperCase());
  });

  it('ValidationError names the GraphQL input fields', async () => {
    const { createUser: created } = await executeOk(server.url, CreateUserDocument, {
      input: { id: 'has spaces!', username: 'x', email: 'not-an-email' },
    });
    const invalid = expectType(created, 'ValidationError');
    expect(invalid.fields.map((f) => f.field).sort()).toEqual(['email', 'id', 'username']);
    for (const field of invalid.fields) expect(field.message.length).toBeGreaterThan(0);

    const owner = await createUser(fresh('valid'));
    const { updateUser: updated } = await executeOk(server.url, UpdateUserDocument, {
      input: { id: owner.user.id, username: 'a'.repeat(33), email: '@', expectedVersion: -1 },
    });
    expect(
      expectType(updated, 'ValidationError')
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['email', 'expectedVersion', 'username']);

    const { updateUser: emptyId } = await executeOk(server.url, UpdateUserDocument, { input: { id: '', username: 'fine_name' } });
    expect(expectType(emptyId, 'ValidationError').fields).toEqual([{ field: 'id', message: 'must not be empty' }]);
    expect(await getUser(owner.user.id)).toEqual(owner.user);
  });
});

describe('idempotency keys', () => {
  it('a repeated createUser returns the same user and position and appends nothing', async () => {
    const key = `create-${++counter}`;
    const input = { ...fresh('idem'), idempotencyKey: key };
    const first = await createUser(input);
    const head = await headPosition();
    const { users: before } = await executeOk(server.url, UsersDocument, { first: 1 });

    const again = await createUser({ ...input, username: `  ${input.username}` }); // same after normalisation
    expect(again.user).toEqual(first.user);
    expect(again.position).toBe(first.position);
    expect(await headPosition()).toBe(head);
    const { users: after } = await executeOk(server.url, UsersDocument, { first: 1 });
    expect(after.totalCount).toBe(before.totalCount);
    expect(await streamVersions(first.user.id)).toEqual([1]);
  });

  it('a repeated updateUser returns the first outcome and appends nothing', async () => {
    const created = await createUser(fresh('idem_up'));
    const input = { id: created.user.id, username: `idem_up_new_${++counter}`, idempotencyKey: `update-${counter}` };
    const first = expectType(await updateUser(input), 'UpdateUserSuccess');
    const head = await headPosition();
    const again = expectType(await updateUser(input), 'UpdateUserSuccess');
    expect(again.position).toBe(first.position);
    expect(again.user).toEqual(first.user);
    expect(await headPosition()).toBe(head);
    expect((await getUser(created.user.id))?.version).toBe(2);
  });

  it('a repeated createUser after later changes still returns the first outcome', async () => {
    const input = { ...fresh('idem_late'), idempotencyKey: `late-${++counter}` };
    const first = await createUser(input);
    const later = expectType(await updateUser({ id: first.user.id, username: `idem_late_new_${counter}` }), 'UpdateUserSuccess');
    const again = await createUser(input);
    expect(again.position).toBe(first.position);
    // The first outcome is the user as that write left it (version 1), not the user now
    // (version 2): position and user must describe the same moment.
    expect(again.user, `replay paired position ${again.position} with the user at version ${again.user.version}`).toEqual(first.user);
    expect(await getUser(first.user.id)).toEqual(later.user);
  });

  it('the same key with different input is a ValidationError on idempotencyKey', async () => {
    const key = `reuse-${++counter}`;
    const first = await createUser({ ...fresh('reuse'), idempotencyKey: key });
    const head = await headPosition();
    const { createUser: reused } = await executeOk(server.url, CreateUserDocument, { input: { ...fresh('reuse'), idempotencyKey: key } });
    const invalid = expectType(reused, 'ValidationError');
    expect(invalid.fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    const { updateUser: asUpdate } = await executeOk(server.url, UpdateUserDocument, {
      input: { id: first.user.id, username: `reuse_x_${counter}`, idempotencyKey: key },
    });
    expect(expectType(asUpdate, 'ValidationError').fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    expect(await headPosition()).toBe(head);
  });
});

describe('DataLoader batching', () => {
  it('50 aliased user(id:) fields make exactly one read-model query', async () => {
    const created: UserFieldsFragment[] = [];
    for (let i = 0; i < 45; i++) created.push((await createUser({ id: `batch-${i}-${++counter}`, ...fresh('batch') })).user);
    const ids = [...created.map((u) => u.id), 'missing-1', 'missing-2', created[0]!.id, created[1]!.id, 'missing-3'];
    expect(ids).toHaveLength(50);
    const fields = ids.map((_, i) => `u${i}: user(id: $id${i}) { ...UserFields }`).join('\n');
    const query = `query Batch(${ids.map((_, i) => `$id${i}: ID!`).join(', ')}) {\n${fields}\n}\n${print(UserFieldsFragmentDoc)}`;
    const variables = Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));

    const before = server.readModelQueries();
    const { status, body } = await gql<Record<string, UserFieldsFragment | null>>(server.url, query, variables);
    expect(server.readModelQueries() - before).toBe(1);

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    ids.forEach((id, i) => {
      const expected = created.find((u) => u.id === id) ?? null;
      expect(body.data?.[`u${i}`]).toEqual(expected);
    });
  });
});

describe('concurrency', () => {
  it('50 concurrent updates of one user all succeed and leave a contiguous stream', async () => {
    const created = await createUser(fresh('busy'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => updateUser({ id: created.user.id, username: `busy_${counter}_${i}` })),
    );
    const successes = results.map((r) => expectType(r, 'UpdateUserSuccess'));
    expect(new Set(successes.map((s) => s.position)).size).toBe(50);
    // Each payload shows at least its own write; a later one may already be folded in.
    for (const s of successes) expect(s.user.version).toBeGreaterThanOrEqual(2);
    const final = await getUser(created.user.id);
    expect(final?.version).toBe(51);
    const last = successes.reduce((a, b) => (inLog(a.position) > inLog(b.position) ? a : b));
    expect(last.user).toEqual(final);
    expect(await streamVersions(created.user.id)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });

  it('50 concurrent updates that all expect version 1: exactly one succeeds', async () => {
    const created = await createUser(fresh('occ_race'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => updateUser({ id: created.user.id, username: `occ_race_${counter}_${i}`, expectedVersion: 1 })),
    );
    const winners = results.filter((r) => r.__typename === 'UpdateUserSuccess');
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.__typename !== 'UpdateUserSuccess')) {
      expect(expectType(loser, 'VersionConflict')).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    }
    expect(await getUser(created.user.id)).toEqual(expectType(winners[0]!, 'UpdateUserSuccess').user);
  });

  it('30 concurrent createUser with one id: exactly one succeeds', async () => {
    const id = `same-id-${++counter}`;
    const results = await Promise.all(Array.from({ length: 30 }, () => executeOk(server.url, CreateUserDocument, { input: { id, ...fresh('same_id') } })));
    const types = results.map((r) => r.createUser.__typename);
    expect(types.filter((t) => t === 'CreateUserSuccess')).toHaveLength(1);
    expect(types.filter((t) => t === 'UserAlreadyExists')).toHaveLength(29);
    expect(await streamVersions(id)).toEqual([1]);
  });

  it('20 concurrent repeats of one idempotent createUser: one user, one outcome', async () => {
    const input = { ...fresh('idem_race'), idempotencyKey: `idem-race-${counter}` };
    const head = await headPosition();
    const { users: before } = await executeOk(server.url, UsersDocument, { first: 1 });
    const results = await Promise.all(Array.from({ length: 20 }, () => createUser(input)));
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.position)).size).toBe(1);
    expect(await server.system.store.readAll({ after: head, limit: 10 })).toHaveLength(1);
    const { users: after } = await executeOk(server.url, UsersDocument, { first: 1 });
    expect(after.totalCount).toBe(before.totalCount + 1);
  });

  it('20 concurrent repeats of one idempotent updateUser: one event, one outcome', async () => {
    const created = await createUser(fresh('idem_up_race'));
    const input = { id: created.user.id, username: `idem_up_race_${counter}_new`, idempotencyKey: `idem-up-race-${counter}` };
    const head = await headPosition();
    const results = await Promise.all(Array.from({ length: 20 }, () => updateUser(input)));
    const successes = results.map((r) => expectType(r, 'UpdateUserSuccess'));
    expect(new Set(successes.map((r) => r.position)).size).toBe(1);
    expect(successes.every((r) => r.user.version === 2 && r.user.username === input.username)).toBe(true);
    expect(await server.system.store.readAll({ after: head, limit: 10 })).toHaveLength(1);
    expect(await streamVersions(created.user.id)).toEqual([1, 2]);
  });

  it('30 concurrent createUser with one email: exactly one succeeds', async () => {
    const { email } = fresh('race');
    const { users: before } = await executeOk(server.url, UsersDocument, { first: 1 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        executeOk(server.url, CreateUserDocument, {
          input: { username: `race_${counter}_${i}`, email: i % 2 === 0 ? email : email.toUpperCase() },
        }),
      ),
    );
    const types = results.map((r) => r.createUser.__typename);
    expect(types.filter((t) => t === 'CreateUserSuccess')).toHaveLength(1);
    expect(types.filter((t) => t === 'EmailTaken')).toHaveLength(29);
    const { users: after } = await executeOk(server.url, UsersDocument, { first: 1 });
    expect(after.totalCount).toBe(before.totalCount + 1);
  });
});

describe('users pagination', () => {
  let paged: TestServer;
  const created: string[] = [];
  beforeAll(async () => {
    paged = await startTestServer();
    for (let i = 0; i < 45; i++) created.push((await createUser({ id: `page-${String(i).padStart(2, '0')}`, ...fresh('page') }, paged.url)).user.id);
  });
  afterAll(async () => {
    await paged?.stop();
  });

  const page = async (variables: UsersQueryVariables) => (await executeOk(paged.url, UsersDocument, variables)).users;

  it('pages forward with first/after through every user once, in creation order', async () => {
    const seen: string[] = [];
    const pages = [];
    let after: string | null | undefined = null;
    for (;;) {
      const users = await page({ first: 20, after });
      pages.push(users);
      seen.push(...users.edges.map((e) => e.node.id));
      expect(users.totalCount).toBe(45);
      expect(users.pageInfo.startCursor).toBe(users.edges[0]?.cursor ?? null);
      expect(users.pageInfo.endCursor).toBe(users.edges.at(-1)?.cursor ?? null);
      if (!users.pageInfo.hasNextPage) break;
      after = users.pageInfo.endCursor;
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages.map((p) => p.edges.length)).toEqual([20, 20, 5]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    expect(seen).toEqual(created);
    expect(new Set(seen).size).toBe(45);
  });

  it('defaults to 20 and returns an empty page after the last cursor', async () => {
    const first = await page({});
    expect(first.edges.map((e) => e.node.id)).toEqual(created.slice(0, 20));
    const all = await page({ first: 100 });
    const beyond = await page({ first: 20, after: all.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
  });

  it('pages backward with last/before', async () => {
    const seen: string[] = [];
    const pages = [];
    let before: string | null | undefined = null;
    for (;;) {
      const users = await page({ last: 20, before });
      pages.push(users);
      seen.unshift(...users.edges.map((e) => e.node.id));
      if (!users.pageInfo.hasPreviousPage) break;
      before = users.pageInfo.startCursor;
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages.map((p) => p.edges.length)).toEqual([20, 20, 5]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([false, true, true]);
    expect(seen).toEqual(created);
  });

  it('first/after and before bound a window', async () => {
    const all = await page({ first: 100 });
    const window = await page({ first: 100, after: all.edges[9]!.cursor, before: all.edges[15]!.cursor });
    expect(window.edges.map((e) => e.node.id)).toEqual(created.slice(10, 15));
  });

  it.each([
    [{ first: 101 }, 'first', /at most 100/],
    [{ first: -1 }, 'first', /negative/],
    [{ last: 101 }, 'last', /at most 100/],
    [{ last: -1 }, 'last', /negative/],
    [{ first: 5, last: 5 }, 'last', /either "first" or "last"/],
    [{ after: 'garbage' }, 'after', /not a cursor/],
    [{ before: 'garbage' }, 'before', /not a cursor/],
    [{ after: Buffer.from('user:abc').toString('base64url') }, 'after', /not a cursor/],
    [{ first: 5, after: 'x'.repeat(200) }, 'after', /not a cursor/],
  ] as const)('%j is a GraphQL error naming %s', async (variables, argument, message) => {
    const response = await execute(paged.url, UsersDocument, variables);
    expect(response.status).toBe(200);
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.message, response.errors![0]!.message === 'Unexpected error.' ? MASKED_HINT : undefined).toMatch(message);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    // Still serving, nothing disturbed.
    const after = await page({ first: 100 });
    expect(after.totalCount).toBe(45);
    expect(after.edges.map((e) => e.node.id)).toEqual(created);
  });
});
