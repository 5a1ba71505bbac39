/**
 * `users(filter:, orderBy:)` through the real server (both stores: it is in
 * POSTGRES_API_SUITES), with authentication on so the email rule is real:
 * filters, both orders in both directions, paging by cursors both ways,
 * cursors refused outside their search, and who may filter by email domain.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

const SECRET = randomBytes(32).toString('base64url');
const secretKey = new TextEncoder().encode(SECRET);

type Node = { id: string; username: string; email: string | null };
type Page = {
  totalCount: number;
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};
type Search = Readonly<{
  filter?: { usernamePrefix?: string; emailDomain?: string };
  orderBy?: { field?: 'CREATED_AT' | 'USERNAME'; direction?: 'ASC' | 'DESC' };
}>;

const USERS_QUERY = `query($filter: UserFilter, $orderBy: UserOrder, $first: Int, $after: String, $last: Int, $before: String) {
  users(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id username email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

/** Created in this order; usernames repeat ignoring case, so USERNAME order has ties to break by creation. */
const PEOPLE = [
  { id: 'us-1', username: 'carol', email: 'carol@Example.com' },
  { id: 'us-2', username: 'Alice', email: 'alice@example.com' },
  { id: 'us-3', username: 'bob', email: 'bob@other.org' },
  { id: 'us-4', username: 'alice', email: 'alice2@mail.example.com' },
  { id: 'us-5', username: 'Albert', email: 'al@EXAMPLE.COM' },
  { id: 'us-6', username: 'al_x', email: 'alx@other.org' },
  { id: 'us-7', username: 'Dave', email: 'dave@example.com' },
];

let server: TestServer;
const tokens = {} as Record<'admin' | 'alice', string>;

const ask = (variables: Record<string, unknown>, token?: string) =>
  gql<{ users: Page }>(server.url, USERS_QUERY, variables, token ? { authorization: bearer(token) } : {});

async function page(variables: Record<string, unknown>, token = tokens.admin): Promise<Page> {
  const { body } = await ask(variables, token);
  if (!body.data?.users) throw new Error(`users(${JSON.stringify(variables)}) failed: ${JSON.stringify(body.errors)}`);
  return body.data.users;
}

const usernames = (connection: Page) => connection.edges.map((edge) => edge.node.username);
const ids = (connection: Page) => connection.edges.map((edge) => edge.node.id);
const globalIds = (list: readonly { id: string }[]) => list.map((person) => `User:${person.id}`);

beforeAll(async () => {
  server = await startTestServer({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
  tokens.admin = await signToken(secretKey, 'root', { claims: { roles: ['admin'] } });
  tokens.alice = await signToken(secretKey, 'us-2');
  for (const person of PEOPLE) {
    const { body } = await gql<{ createUser: { __typename: string } }>(
      server.url,
      'mutation($input: CreateUserInput!) { createUser(input: $input) { __typename } }',
      { input: person },
      { authorization: bearer(tokens.admin) },
    );
    expect(body.data?.createUser.__typename).toBe('CreateUserSuccess');
  }
  // Both users projections have passed every creation.
  await waitUntil(async () => (await page({ orderBy: {} })).edges.length === PEOPLE.length, 'the user search to hold every user');
});
afterAll(async () => {
  await server?.stop();
});

/** Every page of `size` forward through `endCursor`, then backward through `startCursor`: both must give `expected`. */
async function expectWalks(search: Search, size: number, expected: readonly string[]) {
  const forward: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages <= expected.length; pages++) {
    const connection = await page({ ...search, first: size, after });
    forward.push(...ids(connection));
    expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  expect(forward).toEqual(expected);

  const backward: string[] = [];
  let before: string | null = null;
  for (let pages = 0; pages <= expected.length; pages++) {
    const connection = await page({ ...search, last: size, before });
    backward.unshift(...ids(connection));
    expect(connection.pageInfo.hasNextPage).toBe(before !== null);
    if (!connection.pageInfo.hasPreviousPage) break;
    before = connection.pageInfo.startCursor;
  }
  expect(backward).toEqual(expected);
}

describe('users(filter:, orderBy:)', () => {
  // Plain code-unit order of the lower-case names (no locale: "_" sorts before letters), then creation.
  const byUsername = PEOPLE.map((person, created) => ({ ...person, key: person.username.toLowerCase(), created })).sort((a, b) =>
    a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.created - b.created,
  );

  it('orders by creation and by username (ignoring case, ties by creation), both ways, page by page in both directions', async () => {
    expect(byUsername.map((person) => person.username)).toEqual(['al_x', 'Albert', 'Alice', 'alice', 'bob', 'carol', 'Dave']);
    for (const size of [1, 2, 3, 10]) {
      await expectWalks({ orderBy: { field: 'CREATED_AT', direction: 'ASC' } }, size, globalIds(PEOPLE));
      await expectWalks({ orderBy: { field: 'CREATED_AT', direction: 'DESC' } }, size, globalIds([...PEOPLE].reverse()));
      await expectWalks({ orderBy: { field: 'USERNAME' } }, size, globalIds(byUsername));
      await expectWalks({ orderBy: { field: 'USERNAME', direction: 'DESC' } }, size, globalIds([...byUsername].reverse()));
    }
  });

  it('filters by username prefix and by email domain, ignoring case, and counts the matches', async () => {
    const prefixed = await page({ filter: { usernamePrefix: 'AL' }, orderBy: { field: 'USERNAME' } });
    expect(usernames(prefixed)).toEqual(['al_x', 'Albert', 'Alice', 'alice']);
    expect(prefixed.totalCount).toBe(4);

    const atExample = await page({ filter: { emailDomain: 'example.COM' } });
    expect(usernames(atExample)).toEqual(['carol', 'Alice', 'Albert', 'Dave']);
    expect(atExample.totalCount).toBe(4);
    // The domain is matched whole: a subdomain is another domain.
    expect(usernames(await page({ filter: { emailDomain: 'mail.example.com' } }))).toEqual(['alice']);

    const both = await page({ filter: { usernamePrefix: 'al', emailDomain: 'example.com' }, orderBy: { field: 'USERNAME', direction: 'DESC' } });
    expect(usernames(both)).toEqual(['Alice', 'Albert']);
    await expectWalks({ filter: { usernamePrefix: 'al', emailDomain: 'example.com' }, orderBy: { field: 'USERNAME', direction: 'DESC' } }, 1, ids(both));

    const none = await page({ filter: { usernamePrefix: 'zz' } });
    expect(none).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
    // An empty filter filters nothing.
    expect((await page({ filter: { usernamePrefix: '' } })).totalCount).toBe(PEOPLE.length);
  });

  it('leaves `users` without filter and orderBy as it was: creation order, its own cursors', async () => {
    const plain = await page({ first: 3 });
    expect(ids(plain)).toEqual(globalIds(PEOPLE.slice(0, 3)));
    expect(Buffer.from(plain.pageInfo.endCursor!, 'base64url').toString()).toMatch(/^user:/);
    expect(plain.totalCount).toBe(PEOPLE.length);
    expect(ids(await page({ first: 3, after: plain.pageInfo.endCursor }))).toEqual(globalIds(PEOPLE.slice(3, 6)));
  });

  it('refuses a cursor from another order, direction or filter, or from the plain list, as BAD_USER_INPUT naming the argument', async () => {
    const plainCursor = (await page({ first: 1 })).pageInfo.endCursor!;
    const byName = (await page({ orderBy: { field: 'USERNAME' }, first: 1 })).pageInfo.endCursor!;
    const refusal = async (variables: Record<string, unknown>) => {
      const { body } = await ask(variables, tokens.admin);
      expect(body.data ?? null).toBeNull();
      return { message: body.errors?.[0]?.message, ...body.errors?.[0]?.extensions };
    };
    expect(await refusal({ orderBy: { field: 'CREATED_AT' }, after: byName })).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'after',
      message: '"after" is a cursor of another filter or orderBy: page with the filter and orderBy that gave it',
    });
    expect(await refusal({ orderBy: { field: 'USERNAME', direction: 'DESC' }, before: byName })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'before' });
    expect(await refusal({ filter: { usernamePrefix: 'a' }, orderBy: { field: 'USERNAME' }, after: byName })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(await refusal({ orderBy: {}, after: plainCursor })).toEqual({ code: 'BAD_USER_INPUT', argument: 'after', message: '"after" is not a cursor of this connection' });
    // And the other way: a search cursor is no cursor of the plain list.
    expect(await refusal({ after: byName })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(await refusal({ filter: { usernamePrefix: 'a%' } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.usernamePrefix' });
    expect(await refusal({ filter: { emailDomain: 'x@example.com' } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.emailDomain' });
  });

  it('lets only admins filter by email domain; everyone may filter by username, and sees only the emails they may', async () => {
    for (const token of [tokens.alice, undefined]) {
      const { body } = await ask({ filter: { emailDomain: 'example.com' } }, token);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', argument: 'filter.emailDomain' });
    }
    const asAlice = await page({ filter: { usernamePrefix: 'ali' }, orderBy: { field: 'USERNAME' } }, tokens.alice);
    expect(asAlice.edges.map((edge) => [edge.node.id, edge.node.email])).toEqual([
      ['User:us-2', 'alice@example.com'],
      ['User:us-4', null],
    ]);
  });
});
