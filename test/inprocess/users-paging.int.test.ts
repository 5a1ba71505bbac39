/** `users` paging (Relay connections) through `app.fetch` over the in-memory store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument, UsersDocument, type UsersQueryVariables } from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

const COUNT = 45;
let api: InProcessApp;
const created: string[] = [];
beforeAll(async () => {
  api = await createInProcessApp();
  for (let i = 0; i < COUNT; i++) {
    const input = { id: `page-${String(i).padStart(2, '0')}`, username: `page_${i}`, email: `page.${i}@example.com` };
    created.push(expectType((await api.executeOk(CreateUserDocument, { input })).createUser, 'CreateUserSuccess').user.id);
  }
});
afterAll(async () => {
  await api?.close();
});

const page = async (variables: UsersQueryVariables) => (await api.executeOk(UsersDocument, variables)).users;

describe('users paging', () => {
  it('pages forward with first/after through every user once, in creation order', async () => {
    const seen: string[] = [];
    const pages = [];
    let after: string | null | undefined = null;
    for (;;) {
      const users = await page({ first: 20, after });
      pages.push(users);
      seen.push(...users.edges.map((e) => e.node.id));
      expect(users.totalCount).toBe(COUNT);
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
  });

  it('pages backward with last/before, meeting the same users', async () => {
    const seen: string[] = [];
    const pages = [];
    let before: string | null | undefined = null;
    for (;;) {
      const users = await page({ last: 20, before });
      pages.push(users);
      seen.unshift(...users.edges.map((e) => e.node.id));
      expect(users.pageInfo.startCursor).toBe(users.edges[0]?.cursor ?? null);
      expect(users.pageInfo.endCursor).toBe(users.edges.at(-1)?.cursor ?? null);
      if (!users.pageInfo.hasPreviousPage) break;
      before = users.pageInfo.startCursor;
      expect(pages.length).toBeLessThan(10);
    }
    expect(pages.map((p) => p.edges.length)).toEqual([20, 20, 5]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([false, true, true]);
    expect(pages.map((p) => p.pageInfo.hasPreviousPage)).toEqual([true, true, false]);
    expect(seen).toEqual(created);
  });

  it('defaults to 20, and a page after the last cursor is empty', async () => {
    expect((await page({})).edges.map((e) => e.node.id)).toEqual(created.slice(0, 20));
    const all = await page({ first: 100 });
    const beyond = await page({ first: 20, after: all.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
  });

  it('after and before together bound a window', async () => {
    const all = await page({ first: 100 });
    const window = await page({ first: 100, after: all.edges[9]!.cursor, before: all.edges[15]!.cursor });
    expect(window.edges.map((e) => e.node.id)).toEqual(created.slice(10, 15));
  });

  it.each([
    [{ first: 101 }, 'first', /at most 100/],
    [{ first: -1 }, 'first', /negative/],
    [{ last: 101 }, 'last', /at most 100/],
    [{ first: 5, last: 5 }, 'last', /either "first" or "last"/],
    [{ after: 'garbage' }, 'after', /not a cursor/],
    [{ before: Buffer.from('user:abc').toString('base64url') }, 'before', /not a cursor/],
  ] as const)('%j is BAD_USER_INPUT naming %s', async (variables, argument, message) => {
    const response = await api.execute(UsersDocument, variables);
    expect(response.status).toBe(200);
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.message).toMatch(message);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  });
});
