/**
 * The users API through `app.fetch` over the in-memory store: every outcome
 * of createUser and updateUser, read-your-writes, idempotency keys and
 * global ids, with no port, no files and no child process. The same
 * behaviour over a real listener and real stores is in test/integration/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateUserDocument,
  UpdateUserDocument,
  UserDocument,
  UsersDocument,
  type CreateUserInput,
  type UpdateUserInput,
} from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { parsed } from '../support/positions.js';

let api: InProcessApp;
beforeAll(async () => {
  api = await createInProcessApp();
});
afterAll(async () => {
  await api?.close();
});

let counter = 0;
/** A fresh, valid username and email for each user a test creates. */
const fresh = (prefix = 'user') => {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
};

async function createUser(input: CreateUserInput) {
  return expectType((await api.executeOk(CreateUserDocument, { input })).createUser, 'CreateUserSuccess');
}
async function updateUser(input: UpdateUserInput) {
  return (await api.executeOk(UpdateUserDocument, { input })).updateUser;
}
const getUser = async (id: string) => (await api.executeOk(UserDocument, { id })).user;
const headPosition = () => api.system.store.headPosition();
const inLog = (position: string) => parsed(api.system.store, position);

describe('createUser', () => {
  it('creates a user that user(id:) and users return, under its global and its bare id', async () => {
    const input = { id: 'alice-1', ...fresh('alice') };
    const created = await createUser(input);
    expect(created.user).toMatchObject({ id: 'User:alice-1', username: input.username, email: input.email, version: 1 });
    expect(created.user.createdAt).toBe(created.user.updatedAt);
    expect(created.position).toMatch(/^mem:[1-9][0-9]*$/);

    expect(await getUser('User:alice-1')).toEqual(created.user);
    expect(await getUser('alice-1')).toEqual(created.user);
    expect(await getUser('nobody-here')).toBeNull();
    const { users } = await api.executeOk(UsersDocument, { first: 100 });
    expect(users.edges.map((e) => e.node)).toContainEqual(created.user);
    expect(users.totalCount).toBe(users.edges.length);
  });

  it('generates a UUID id when none is given, and trims the input', async () => {
    const { username, email } = fresh('trim');
    const created = await createUser({ username: `  ${username} `, email: ` ${email}  ` });
    expect(created.user.id).toMatch(/^User:[0-9a-f-]{36}$/);
    expect(created.user).toMatchObject({ username, email });
    expect(await getUser(created.user.id)).toEqual(created.user);
  });

  it('UserAlreadyExists for a taken id, leaving the first user as it was', async () => {
    const created = await createUser({ id: `dup-${++counter}`, ...fresh('dup') });
    const head = await headPosition();
    const { createUser: again } = await api.executeOk(CreateUserDocument, { input: { id: created.user.id, ...fresh('dup') } });
    const exists = expectType(again, 'UserAlreadyExists');
    expect(exists.userId).toBe(created.user.id);
    expect(exists.message.length).toBeGreaterThan(0);
    expect(await headPosition()).toBe(head);
    expect(await getUser(created.user.id)).toEqual(created.user);
  });

  it('EmailTaken for the same email in any case, on create and on update', async () => {
    const owner = await createUser(fresh('owner'));
    const shouted = owner.user.email!.toUpperCase();
    const response = await api.execute(CreateUserDocument, { input: { ...fresh('thief'), email: shouted } });
    expect(response.status).toBe(200);
    expect(expectType(response.data!.createUser, 'EmailTaken').email).toBe(shouted);

    const other = await createUser(fresh('other'));
    const mixed = owner.user.email!.replace(/^./, (c) => c.toUpperCase());
    const head = await headPosition();
    const taken = expectType(await updateUser({ id: other.user.id, email: mixed }), 'EmailTaken');
    expect(taken.email).toBe(mixed);
    expect(await headPosition()).toBe(head);
    expect(await getUser(other.user.id)).toEqual(other.user);
  });

  it('a freed email can be claimed again', async () => {
    const first = await createUser(fresh('free'));
    const oldEmail = first.user.email!;
    expectType(await updateUser({ id: first.user.id, email: fresh('free').email }), 'UpdateUserSuccess');
    const second = await createUser({ username: fresh('free').username, email: oldEmail.toUpperCase() });
    expect(second.user.email).toBe(oldEmail.toUpperCase());
  });

  it('ValidationError names every bad GraphQL input field, and writes nothing', async () => {
    const head = await headPosition();
    const { createUser: created } = await api.executeOk(CreateUserDocument, {
      input: { id: 'has spaces!', username: 'x', email: 'not-an-email' },
    });
    const invalid = expectType(created, 'ValidationError');
    expect(invalid.fields.map((f) => f.field).sort()).toEqual(['email', 'id', 'username']);
    for (const field of invalid.fields) expect(field.message.length).toBeGreaterThan(0);
    expect(invalid.message.length).toBeGreaterThan(0);

    const { createUser: foreign } = await api.executeOk(CreateUserDocument, { input: { id: 'Order:9', ...fresh('order') } });
    expect(expectType(foreign, 'ValidationError').fields.map((f) => f.field)).toEqual(['id']);
    expect(await getUser('Order:9')).toBeNull();
    expect(await headPosition()).toBe(head);
  });
});

describe('updateUser', () => {
  // Whether the query waits for the write is tested with a lagging projection in read-your-writes.int.test.ts.
  it('each payload equals the user(id:) query that follows it', async () => {
    const created = await createUser(fresh('ryw'));
    expect(await getUser(created.user.id)).toEqual(created.user);
    let previous: { position: string } = created;
    for (let i = 1; i <= 10; i++) {
      const change = i % 2 === 0 ? { username: `ryw_renamed_${counter}_${i}` } : { email: `ryw.${counter}.${i}@example.com` };
      const updated = expectType(await updateUser({ id: created.user.id, ...change }), 'UpdateUserSuccess');
      expect(updated.user).toMatchObject({ id: created.user.id, version: i + 1, ...change });
      expect(updated.user.createdAt).toBe(created.user.createdAt);
      expect(inLog(updated.position) > inLog(previous.position)).toBe(true);
      expect(await getUser(created.user.id)).toEqual(updated.user);
      previous = updated;
    }
  });

  it('an update that changes nothing appends nothing and returns the last write', async () => {
    const created = await createUser(fresh('same'));
    const head = await headPosition();
    const unchanged = expectType(
      await updateUser({ id: created.user.id, username: created.user.username, email: created.user.email }),
      'UpdateUserSuccess',
    );
    expect(unchanged).toEqual({ __typename: 'UpdateUserSuccess', position: created.position, user: created.user });
    expect(expectType(await updateUser({ id: created.user.id }), 'UpdateUserSuccess').position).toBe(created.position);
    expect(await headPosition()).toBe(head);
  });

  it('VersionConflict for a stale or future expectedVersion, writing nothing', async () => {
    const created = await createUser(fresh('occ'));
    const second = expectType(await updateUser({ id: created.user.id, username: `occ_b_${counter}`, expectedVersion: 1 }), 'UpdateUserSuccess');
    const head = await headPosition();
    const stale = expectType(await updateUser({ id: created.user.id, username: `occ_c_${counter}`, expectedVersion: 1 }), 'VersionConflict');
    expect(stale).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(stale.message).toMatch(/version/i);
    const ahead = expectType(await updateUser({ id: created.user.id, username: `occ_d_${counter}`, expectedVersion: 7 }), 'VersionConflict');
    expect(ahead).toMatchObject({ expectedVersion: 7, actualVersion: 2 });
    expect(await headPosition()).toBe(head);
    expect(await getUser(created.user.id)).toEqual(second.user);
  });

  it('UserNotFound for an unknown user, whatever expectedVersion says', async () => {
    for (const expectedVersion of [undefined, 0, 1, 3]) {
      const result = expectType(
        await updateUser({ id: 'no-such-user', username: 'whoever', ...(expectedVersion === undefined ? {} : { expectedVersion }) }),
        'UserNotFound',
      );
      expect(result.userId).toBe('User:no-such-user');
      expect(result.message).toBe('No user has id "no-such-user"');
    }
    expect(await getUser('no-such-user')).toBeNull();
  });

  it('ValidationError names the bad fields, an empty id among them', async () => {
    const owner = await createUser(fresh('valid'));
    const { updateUser: updated } = await api.executeOk(UpdateUserDocument, {
      input: { id: owner.user.id, username: 'a'.repeat(33), email: '@', expectedVersion: -1 },
    });
    expect(
      expectType(updated, 'ValidationError')
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['email', 'expectedVersion', 'username']);
    const { updateUser: emptyId } = await api.executeOk(UpdateUserDocument, { input: { id: '', username: 'fine_name' } });
    expect(expectType(emptyId, 'ValidationError').fields).toEqual([{ field: 'id', message: 'must not be empty' }]);
    expect(await getUser(owner.user.id)).toEqual(owner.user);
  });
});

describe('idempotency keys', () => {
  it('a repeated createUser returns the first outcome and appends nothing, even after later changes', async () => {
    const input = { ...fresh('idem'), idempotencyKey: `create-${counter}` };
    const first = await createUser(input);
    const head = await headPosition();
    const again = await createUser({ ...input, username: `  ${input.username}` }); // the same after trimming
    expect(again).toEqual(first);
    expect(await headPosition()).toBe(head);

    const later = expectType(await updateUser({ id: first.user.id, username: `idem_new_${counter}` }), 'UpdateUserSuccess');
    // The user as that first write left it, paired with its position, not the user now.
    expect(await createUser(input)).toEqual(first);
    expect(await getUser(first.user.id)).toEqual(later.user);
  });

  it('a repeated updateUser returns the first outcome and appends nothing', async () => {
    const created = await createUser(fresh('idem_up'));
    const input = { id: created.user.id, username: `idem_up_new_${++counter}`, idempotencyKey: `update-${counter}` };
    const first = expectType(await updateUser(input), 'UpdateUserSuccess');
    const head = await headPosition();
    expect(await updateUser(input)).toEqual(first);
    expect(await headPosition()).toBe(head);
    expect((await getUser(created.user.id))?.version).toBe(2);
  });

  it('the same key with other input is a ValidationError on idempotencyKey, for either mutation', async () => {
    const key = `reuse-${++counter}`;
    const first = await createUser({ ...fresh('reuse'), idempotencyKey: key });
    const head = await headPosition();
    const { createUser: reused } = await api.executeOk(CreateUserDocument, { input: { ...fresh('reuse'), idempotencyKey: key } });
    expect(expectType(reused, 'ValidationError').fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    const { updateUser: asUpdate } = await api.executeOk(UpdateUserDocument, {
      input: { id: first.user.id, username: `reuse_x_${counter}`, idempotencyKey: key },
    });
    expect(expectType(asUpdate, 'ValidationError').fields.map((f) => f.field)).toEqual(['idempotencyKey']);
    expect(await headPosition()).toBe(head);
  });

  it('20 concurrent repeats of one idempotent createUser: one user, one event, one outcome', async () => {
    const input = { ...fresh('idem_race'), idempotencyKey: `idem-race-${counter}` };
    const head = await headPosition();
    const results = await Promise.all(Array.from({ length: 20 }, () => createUser(input)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await api.system.store.readAll({ after: head, limit: 10 })).toHaveLength(1);
  });
});

describe('concurrent writes', () => {
  it('50 concurrent updates that all expect version 1: exactly one wins, the rest conflict', async () => {
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

  it('30 concurrent createUser with one email: exactly one succeeds', async () => {
    const { email } = fresh('race');
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api.executeOk(CreateUserDocument, { input: { username: `race_${counter}_${i}`, email: i % 2 === 0 ? email : email.toUpperCase() } }),
      ),
    );
    const types = results.map((r) => r.createUser.__typename);
    expect(types.filter((t) => t === 'CreateUserSuccess')).toHaveLength(1);
    expect(types.filter((t) => t === 'EmailTaken')).toHaveLength(29);
  });
});

describe('global ids: node and nodes', () => {
  type Node = { __typename: string; id: string; username?: string; version?: number } | null;
  const NODE_FIELDS = '__typename id ... on User { username version }';
  const node = (id: string) => api.gql<{ node: Node }>(`query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`, { id });
  const nodes = (ids: string[]) => api.gql<{ nodes: Node[] }>(`query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`, { ids });
  const asNode = (user: { id: string; username?: string | null; version: number }) => ({
    __typename: 'User',
    id: user.id,
    username: user.username,
    version: user.version,
  });

  it('node(id:) finds a user by its global id', async () => {
    const created = await createUser({ id: 'gid-alice', ...fresh('gid') });
    expect(await node('User:gid-alice')).toEqual({ status: 200, body: { data: { node: asNode(created.user) }, extensions: { position: expect.any(String) } } });
    expect((await node('Order:42')).body).toEqual({ data: { node: null }, extensions: { position: expect.any(String) } });
  });

  it('nodes(ids:) answers in order, null for unknown ids and foreign types, in one read-model query', async () => {
    const a = (await createUser(fresh('gid'))).user;
    const b = (await createUser(fresh('gid'))).user;
    const before = api.readModelQueries();
    const { status, body } = await nodes([b.id, 'User:no-such-user', a.id, 'Order:1', b.id]);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([asNode(b), null, asNode(a), null, asNode(b)]);
    expect(api.readModelQueries() - before).toBe(1);
  });

  it('a malformed global id is BAD_USER_INPUT; more than 100 ids are refused', async () => {
    for (const malformed of ['plain-legacy-id', 'user:lowercase-type', 'User:', ':x']) {
      const { status, body } = await node(malformed);
      expect(status, malformed).toBe(200);
      expect(body.data?.node ?? null, malformed).toBeNull();
      expect(body.errors?.[0]?.extensions?.['code'], malformed).toBe('BAD_USER_INPUT');
    }
    const { body } = await nodes(Array.from({ length: 101 }, (_, i) => `User:u${i}`));
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'ids' } });
  });
});
