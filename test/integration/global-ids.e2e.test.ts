import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';

/** Relay Global Object Identification, and the ids clients stored before it. Runs on both stores. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type User = { __typename: 'User'; id: string; username: string; version: number };
const USER_FIELDS = '__typename id username version';

let counter = 0;
async function createUser(id?: string): Promise<User> {
  counter += 1;
  const { body } = await gql<{ createUser: { __typename: string; user?: User } }>(
    server.url,
    `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { user { ${USER_FIELDS} } } } }`,
    { input: { ...(id ? { id } : {}), username: `gid_${counter}`, email: `gid.${counter}@example.com` } },
  );
  if (!body.data?.createUser.user) throw new Error(`createUser failed: ${JSON.stringify(body)}`);
  return body.data.createUser.user;
}

const node = (id: string) => gql<{ node: User | null }>(server.url, `query($id: ID!) { node(id: $id) { __typename id ... on User { username version } } }`, { id });
const nodes = (ids: string[]) =>
  gql<{ nodes: (User | null)[] }>(server.url, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on User { username version } } }`, { ids });
const user = (id: string) => gql<{ user: User | null }>(server.url, `query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id });

describe('global ids', () => {
  it('every id is `User:<user id>`, and node(id:) finds the user again', async () => {
    const created = await createUser('gid-alice');
    expect(created.id).toBe('User:gid-alice');
    const { status, body } = await node(created.id);
    expect(status).toBe(200);
    expect(body.data?.node).toEqual(created);
  });

  it('a generated id is global too, and stable across reads', async () => {
    const created = await createUser();
    expect(created.id).toMatch(/^User:[0-9a-f-]{36}$/);
    expect((await user(created.id)).body.data?.user).toEqual(created);
    expect((await node(created.id)).body.data?.node).toEqual(created);
  });

  it('nodes(ids:) answers in order, null for unknown ids and foreign types, in one read-model query', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const before = server.readModelQueries();
    const { status, body } = await nodes([b.id, 'User:no-such-user', a.id, 'Order:1', b.id]);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([b, null, a, null, b]);
    expect(server.readModelQueries() - before).toBe(1);
  });

  it('user(id:), node(id:) and nodes(ids:) in one request share one read', async () => {
    const [a, b] = [await createUser(), await createUser()];
    const before = server.readModelQueries();
    const { body } = await gql<{ user: User; node: User; nodes: User[] }>(
      server.url,
      `query($a: ID!, $b: ID!) { user(id: $a) { id } node(id: $b) { id } nodes(ids: [$a, $b]) { id } }`,
      { a: a.id, b: b.id },
    );
    expect(body.data).toEqual({ user: { id: a.id }, node: { id: b.id }, nodes: [{ id: a.id }, { id: b.id }] });
    expect(server.readModelQueries() - before).toBe(1);
  });

  it('a malformed global id is BAD_USER_INPUT; a foreign type is null', async () => {
    for (const malformed of ['plain-legacy-id', 'user:lowercase-type', 'User:', ':x', `User:${'x'.repeat(300)}`]) {
      const { status, body } = await node(malformed);
      expect(status, malformed).toBe(200);
      expect(body.data?.node ?? null, malformed).toBeNull();
      expect(body.errors?.[0]?.extensions?.['code'], malformed).toBe('BAD_USER_INPUT');
    }
    const listed = await nodes(['User:x', 'nonsense']);
    expect(listed.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((await node('Order:42')).body).toEqual({ data: { node: null }, extensions: { position: expect.any(String) } });
  });

  it('nodes(ids:) takes at most 100 ids', async () => {
    const { body } = await nodes(Array.from({ length: 101 }, (_, i) => `User:u${i}`));
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'ids' } });
  });
});

describe('ids stored before global ids', () => {
  it('user(id:) resolves the bare user id to the same user', async () => {
    const created = await createUser('legacy-1');
    expect((await user('legacy-1')).body.data?.user).toEqual(created);
    expect((await user('Order:legacy-1')).body.data?.user).toBeNull();
  });

  it('createUser and updateUser take a global or a bare id; another type is a ValidationError', async () => {
    const created = await createUser('User:chosen-global');
    expect(created.id).toBe('User:chosen-global');
    const update = (id: string, username: string) =>
      gql<{ updateUser: { __typename: string; user?: User; fields?: { field: string; message: string }[] } }>(
        server.url,
        `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on UpdateUserSuccess { user { ${USER_FIELDS} } } ... on ValidationError { fields { field message } } } }`,
        { input: { id, username } },
      );
    expect((await update('chosen-global', 'renamed_bare')).body.data?.updateUser.user).toMatchObject({ id: created.id, version: 2 });
    expect((await update(created.id, 'renamed_global')).body.data?.updateUser.user).toMatchObject({ id: created.id, version: 3 });
    const foreign = (await update('Order:chosen-global', 'nope_nope')).body.data?.updateUser;
    expect(foreign).toMatchObject({ __typename: 'ValidationError', fields: [{ field: 'id' }] });

    const { body } = await gql<{ createUser: { __typename: string } }>(
      server.url,
      `mutation { createUser(input: { id: "Order:9", username: "order_nine", email: "order9@example.com" }) { __typename } }`,
    );
    expect(body.data?.createUser.__typename).toBe('ValidationError');
    expect((await user('Order:9')).body.data?.user).toBeNull();
    expect((await user('9')).body.data?.user).toBeNull();
  });
});
