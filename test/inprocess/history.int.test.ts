/**
 * `User.history` and the `events` audit feed through `app.fetch` over the
 * in-memory store: order, cursors, states, paging limits, masking and who
 * may read the feed. test/integration/history.e2e.test.ts adds the real
 * server on SQLite and PostgreSQL and the subscription hand-over.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventsDocument,
  CreateUserDocument,
  UpdateUserDocument,
  UserHistoryDocument,
  type AuditEventsQueryVariables,
  type UserHistoryQueryVariables,
} from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { AUDIENCE, bearer, ISSUER, signToken } from '../auth/support.js';

describe('history with authentication off', () => {
  let api: InProcessApp;
  /** The events written, in the order written: [user id, version, username after it]. */
  const written: [string, number, string][] = [];

  beforeAll(async () => {
    api = await createInProcessApp();
    for (const id of ['hist-a', 'hist-b']) {
      await api.executeOk(CreateUserDocument, { input: { id, username: `${id}_v1`, email: `${id}@example.com` } });
      written.push([`User:${id}`, 1, `${id}_v1`]);
    }
    // Interleaved, so each user's history skips the other's events in the log.
    for (let version = 2; version <= 7; version++) {
      for (const id of ['hist-a', 'hist-b']) {
        const username = `${id}_v${version}`;
        const email = version === 4 ? `${id}.new@example.com` : undefined;
        expectType((await api.executeOk(UpdateUserDocument, { input: { id, username, ...(email ? { email } : {}) } })).updateUser, 'UpdateUserSuccess');
        written.push([`User:${id}`, version, username]);
      }
    }
  });
  afterAll(async () => {
    await api?.close();
  });

  const history = async (variables: UserHistoryQueryVariables) => (await api.executeOk(UserHistoryDocument, variables)).user!.history;
  const audit = async (variables: AuditEventsQueryVariables) => (await api.executeOk(AuditEventsDocument, variables)).events;

  it('lists a user’s events oldest first, each with its position as cursor and the state it left', async () => {
    const { edges, pageInfo } = await history({ id: 'User:hist-a' });
    expect(edges.map((e) => [e.node.__typename, e.node.version, e.node.state.username, e.node.state.version])).toEqual(
      written.filter(([id]) => id === 'User:hist-a').map(([, version, username]) => [version === 1 ? 'UserCreated' : 'UserUpdated', version, username, version]),
    );
    for (const edge of edges) {
      expect(edge.cursor).toBe(edge.node.position);
      expect(edge.node.userId).toBe('User:hist-a');
      expect(edge.node.state.userId).toBe('User:hist-a');
      expect(edge.node.state.updatedAt).toBe(edge.node.occurredAt);
    }
    // The email changed at version 4: states before show the old one, states from then the new one.
    expect(edges.map((e) => e.node.state.email)).toEqual([1, 2, 3, 4, 5, 6, 7].map((v) => (v < 4 ? 'hist-a@example.com' : 'hist-a.new@example.com')));
    expect(pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: edges[0]!.cursor, endCursor: edges.at(-1)!.cursor });
  });

  it('pages forward and backward through the same events, once each', async () => {
    const all = (await history({ id: 'hist-b', first: 100 })).edges.map((e) => e.cursor);
    expect(all).toHaveLength(7);
    const forward: string[] = [];
    let after: string | null | undefined = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await history({ id: 'hist-b', first: 3, after });
      forward.push(...page.edges.map((e) => e.cursor));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const backward: string[] = [];
    let before: string | null | undefined = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await history({ id: 'hist-b', last: 3, before });
      backward.unshift(...page.edges.map((e) => e.cursor));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(forward).toEqual(all);
    expect(backward).toEqual(all);
  });

  it('keeps to the limits of `users`: at most 100, either first or last, positions of this store', async () => {
    const refusal = async (variables: UserHistoryQueryVariables) => {
      const { status, errors, data } = await api.execute(UserHistoryDocument, variables);
      expect(status).toBe(200);
      expect(data?.user).toBeNull();
      return errors?.map((e) => [e.extensions?.['code'], e.extensions?.['argument'], e.message]);
    };
    expect(await refusal({ id: 'hist-a', first: 101 })).toEqual([['BAD_USER_INPUT', 'first', '"first" must be at most 100']]);
    expect(await refusal({ id: 'hist-a', last: 101 })).toEqual([['BAD_USER_INPUT', 'last', '"last" must be at most 100']]);
    expect(await refusal({ id: 'hist-a', first: 1, last: 1 })).toEqual([['BAD_USER_INPUT', 'last', 'Pass either "first" or "last", not both']]);
    expect(await refusal({ id: 'hist-a', after: 'garbage' })).toEqual([['BAD_USER_INPUT', 'after', '"after" is not a position of this event store']]);
    expect(await refusal({ id: 'hist-a', before: 'sqlite:12' })).toEqual([
      ['BAD_USER_INPUT', 'before', '"before" is a position of a SQLite event store; this server uses memory'],
    ]);
    expect((await history({ id: 'hist-a', first: 100 })).edges).toHaveLength(7);
  });

  it('feeds every event of the log in order, with the same cursors, filtered by type and by user', async () => {
    const everything = await audit({ first: 100 });
    expect(everything.edges.map((e) => [e.node.__typename === 'UserCreated' || e.node.__typename === 'UserUpdated' ? e.node.userId : null, e.node.version])).toEqual(
      written.map(([id, version]) => [id, version]),
    );
    for (const edge of everything.edges) expect(edge.cursor).toBe(edge.node.position);
    const historyCursors = (await history({ id: 'hist-a' })).edges.map((e) => e.cursor);
    expect((await audit({ userId: 'User:hist-a' })).edges.map((e) => e.cursor)).toEqual(historyCursors);
    expect((await audit({ userId: 'hist-a' })).edges.map((e) => e.cursor)).toEqual(historyCursors);
    const created = await audit({ types: ['UserCreated'] });
    expect(created.edges.map((e) => [e.node.__typename, e.node.__typename === 'UserCreated' ? e.node.username : null])).toEqual([
      ['UserCreated', 'hist-a_v1'],
      ['UserCreated', 'hist-b_v1'],
    ]);
    const page = await audit({ first: 5, after: everything.edges[2]!.cursor });
    expect(page.edges.map((e) => e.cursor)).toEqual(everything.edges.slice(3, 8).map((e) => e.cursor));
    expect(page.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const last = await audit({ last: 2, types: ['UserUpdated'], userId: 'User:hist-b' });
    expect(last.edges.map((e) => e.node.version)).toEqual([6, 7]);
    for (const edge of everything.edges) expect(edge.node.correlationId).toEqual(expect.any(String));
  });

  it('refuses unknown event types, ids of types without events and out-of-range pages', async () => {
    const refusal = async (variables: AuditEventsQueryVariables) => {
      const { errors, data } = await api.execute(AuditEventsDocument, variables);
      expect(data).toBeNull();
      return errors?.map((e) => [e.extensions?.['code'], e.extensions?.['argument']]);
    };
    expect(await refusal({ types: ['UserDeleted'] })).toEqual([['BAD_USER_INPUT', 'types']]);
    expect(await refusal({ userId: 'Order:1' })).toEqual([['BAD_USER_INPUT', 'userId']]);
    expect(await refusal({ first: 101 })).toEqual([['BAD_USER_INPUT', 'first']]);
    expect(await refusal({ after: 'pg:1.1' })).toEqual([['BAD_USER_INPUT', 'after']]);
  });
});

describe('history and the audit feed with authentication on', () => {
  const SECRET = randomBytes(32).toString('base64url');
  const key = new TextEncoder().encode(SECRET);
  let api: InProcessApp;
  const tokens = {} as Record<'carol' | 'dave' | 'admin', string>;
  const as = (token?: string): Record<string, string> => (token ? { authorization: bearer(token) } : {});

  beforeAll(async () => {
    api = await createInProcessApp({ env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE } });
    tokens.carol = await signToken(key, 'carol');
    tokens.dave = await signToken(key, 'dave');
    tokens.admin = await signToken(key, 'root', { claims: { roles: ['admin'] } });
    const { data } = await api.execute(CreateUserDocument, { input: { id: 'carol', username: 'carol', email: 'carol@example.com' } }, as(tokens.carol));
    expectType(data!.createUser, 'CreateUserSuccess');
    const updated = await api.execute(UpdateUserDocument, { input: { id: 'carol', email: 'carol2@example.com' } }, as(tokens.carol));
    expectType(updated.data!.updateUser, 'UpdateUserSuccess');
  });
  afterAll(async () => {
    await api?.close();
  });

  const emailsInHistory = async (token?: string) => {
    const { data, errors } = await api.execute(UserHistoryDocument, { id: 'carol' }, as(token));
    expect(errors).toBeUndefined();
    return data!.user!.history.edges.map((e) => [
      e.node.__typename === 'UserCreated' ? e.node.email : e.node.__typename === 'UserUpdated' ? e.node.changedEmail : null,
      e.node.state.email,
    ]);
  };

  it('masks emails in history as on `user`: only the user and admins see them', async () => {
    const visible = [
      ['carol@example.com', 'carol@example.com'],
      ['carol2@example.com', 'carol2@example.com'],
    ];
    expect(await emailsInHistory(tokens.carol)).toEqual(visible);
    expect(await emailsInHistory(tokens.admin)).toEqual(visible);
    const masked = [
      [null, null],
      [null, null],
    ];
    expect(await emailsInHistory(tokens.dave)).toEqual(masked);
    expect(await emailsInHistory()).toEqual(masked);
  });

  it('serves the audit feed to admins only, with emails; others get FORBIDDEN and no events', async () => {
    const { data, errors } = await api.execute(AuditEventsDocument, {}, as(tokens.admin));
    expect(errors).toBeUndefined();
    expect(data!.events.edges.map((e) => (e.node.__typename === 'UserCreated' ? e.node.email : e.node.__typename === 'UserUpdated' ? e.node.changedEmail : null))).toEqual([
      'carol@example.com',
      'carol2@example.com',
    ]);
    for (const token of [tokens.carol, tokens.dave, undefined]) {
      const refused = await api.execute(AuditEventsDocument, {}, as(token));
      expect(refused.status).toBe(200);
      expect(refused.data).toBeNull();
      expect(refused.errors?.map((e) => e.extensions?.['code'])).toEqual(['FORBIDDEN']);
      expect(refused.errors?.[0]?.message).toMatch(/admin/);
    }
  });
});
