import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCommand } from '../../src/kernel/idempotency.js';
import { createUserRules, updateUserRules } from '../../src/users/input-rules.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { userViewFromStream } from '../../src/users/user-view.js';
import { scrape } from '../support/metrics.js';
import { bareUserId } from '../support/graphql.js';
import { LOG_START } from '../support/positions.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { arbitraryText, email, expectedVersion, idempotencyKey, username, userId } from './arbitraries.js';

/** The README's rule, written out here rather than imported, so a change to the code's comparison is caught. */
const ignoringCase = (email: string) => email.toLowerCase();

/**
 * Arbitrary mutation inputs against a real server, checked against a model
 * of the documented behaviour (README: input rules, consistency,
 * idempotency). Every answer must be the union member the model predicts,
 * or a 400 for variables GraphQL cannot coerce; never a 500 or a masked
 * error. The server keeps its state across runs, so pool values carry a
 * per-run tag `{{R}}` (replaced when a run starts) and the model spans all
 * runs. On failure fast-check prints the seed; `endOnFailure` keeps the
 * counterexample the one that failed (shrinking would replay against a
 * server that has moved on).
 */

/** Runs per property; PROPERTY_RUNS=3000 (with a longer --testTimeout) for a longer hunt. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 120);
const TAG = '{{R}}'; // 5 characters, like the tags that replace it, so boundary lengths hold
const IDS = [`a${TAG}`, `b${TAG}`, `c${TAG}`, '{{G}}']; // {{G}}: the last generated id
const KEYS = [`k1-${TAG}`, `k2-${TAG}`];
const DOMAIN = `${TAG}.example.com`;

const createInput = fc.record(
  {
    id: userId(IDS),
    username,
    email: email(DOMAIN, TAG),
    idempotencyKey: idempotencyKey(KEYS),
  },
  { requiredKeys: ['username', 'email'] },
);
const updateInput = fc.record(
  { id: userId(IDS), username, email: email(DOMAIN, TAG), expectedVersion, idempotencyKey: idempotencyKey(KEYS) },
  { requiredKeys: ['id'] },
);
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
/** Variables GraphQL must refuse before any resolver runs. */
const uncoercible = fc.oneof(
  fc.record({ mutation: fc.constant('createUser' as const), input: fc.record({ username: notAString, email: fc.constant('n@example.com') }) }),
  fc.record({ mutation: fc.constant('createUser' as const), input: fc.record({ username: fc.constant('abc'), email: notAString }) }),
  fc.record({ mutation: fc.constant('createUser' as const), input: fc.constantFrom(null, {}, { username: 'abc' }, { username: 'abc', email: 'e@example.com', extra: 'e2@example.com' }) }),
  fc.record({
    mutation: fc.constant('updateUser' as const),
    input: fc.record({ id: fc.constantFrom<unknown>(null, true, 1.5, {}, []), username: fc.constant('abc') }),
  }),
  fc.record({
    mutation: fc.constant('updateUser' as const),
    input: fc.record({ id: fc.constant('a'), expectedVersion: fc.constantFrom<unknown>(1.5, '2', 2 ** 31, -(2 ** 31) - 1, 1e300, true, []) }),
  }),
);
type Action =
  | { kind: 'createUser'; input: Record<string, unknown> }
  | { kind: 'updateUser'; input: Record<string, unknown> }
  | { kind: 'uncoercible'; request: { mutation: 'createUser' | 'updateUser'; input: unknown } };
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('createUser' as const), input: createInput }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('updateUser' as const), input: updateInput }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('uncoercible' as const), request: uncoercible }) },
);

const result = (success: string) => `{ __typename ... on Error { message } ... on ${success} { position user { id username email version } } }`;
const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) ${result('CreateUserSuccess')} }`;
const UPDATE = `mutation($input: UpdateUserInput!) { updateUser(input: $input) ${result('UpdateUserSuccess')} }`;

type ModelUser = Readonly<{ id: string; username: string; email: string; version: number }>;
type Outcome = Readonly<{ typename: string; user?: ModelUser }>;
type Payload = { __typename: string; message?: string; user?: ModelUser };

/** What the README promises, as a state machine. */
function createModel() {
  const users = new Map<string, ModelUser>();
  const owners = new Map<string, string>(); // email key -> user id
  const keys = new Map<string, { hash: string; outcome: Outcome }>();
  let lastGenerated = 'none';

  const save = (user: ModelUser, previousEmail?: string) => {
    if (previousEmail !== undefined) owners.delete(ignoringCase(previousEmail));
    owners.set(ignoringCase(user.email), user.id);
    users.set(user.id, user);
  };

  /** The idempotency step: replays the first outcome of a key, refuses a key reused with other input. */
  const idempotent = (type: string, data: object, key: string | undefined, decide: () => Outcome): Outcome => {
    if (key === undefined) return decide();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) return { typename: 'ValidationError' };
    const hash = hashCommand({ type, data });
    const recorded = keys.get(key);
    if (recorded) return recorded.hash === hash ? recorded.outcome : { typename: 'ValidationError' };
    const outcome = decide();
    keys.set(key, { hash, outcome });
    return outcome;
  };

  const createUser = (input: Record<string, unknown>, generatedId: () => string | undefined): Outcome => {
    const parsed = createUserRules.safeParse(definedOnly({ userId: input['id'], username: input['username'], email: input['email'] }));
    if (!parsed.success) return { typename: 'ValidationError' };
    const data = parsed.data;
    return idempotent('CreateUser', data, input['idempotencyKey'] as string | undefined, () => {
      if (data.userId !== undefined && users.has(data.userId)) return { typename: 'UserAlreadyExists' };
      if (owners.has(ignoringCase(data.email))) return { typename: 'EmailTaken' };
      const id = data.userId ?? generatedId();
      if (id === undefined) throw new Error('A generated id was expected in the answer');
      if (data.userId === undefined) lastGenerated = id;
      const user = { id, username: data.username, email: data.email, version: 1 };
      save(user);
      return { typename: 'CreateUserSuccess', user };
    });
  };

  const updateUser = (input: Record<string, unknown>): Outcome => {
    const parsed = updateUserRules.safeParse(
      definedOnly({ userId: input['id'], username: input['username'], email: input['email'], expectedVersion: input['expectedVersion'] }),
    );
    if (!parsed.success) return { typename: 'ValidationError' };
    const data = parsed.data;
    return idempotent('UpdateUser', data, input['idempotencyKey'] as string | undefined, () => {
      const current = users.get(data.userId);
      if (!current) return { typename: 'UserNotFound' };
      if (data.expectedVersion !== undefined && data.expectedVersion !== current.version) return { typename: 'VersionConflict' };
      const username = data.username ?? current.username;
      const emailChanged = data.email !== undefined && ignoringCase(data.email) !== ignoringCase(current.email);
      if (username === current.username && !emailChanged) return { typename: 'UpdateUserSuccess', user: current };
      if (emailChanged && owners.has(ignoringCase(data.email!))) return { typename: 'EmailTaken' };
      const user = { ...current, username, email: emailChanged ? data.email! : current.email, version: current.version + 1 };
      save(user, current.email);
      return { typename: 'UpdateUserSuccess', user };
    });
  };

  return { users, createUser, updateUser, lastGenerated: () => lastGenerated };
}

const definedOnly = (value: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));

/** Replaces the run tags in every string of a generated value. */
function tagged<T>(value: T, tag: string, generated: string): T {
  if (typeof value === 'string') return value.replaceAll(TAG, tag).replaceAll('{{G}}', generated) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => tagged(v, tag, generated)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tagged(v, tag, generated)])) as T;
  }
  return value;
}

const UNIONS: Record<string, readonly string[]> = {
  createUser: ['CreateUserSuccess', 'ValidationError', 'UserAlreadyExists', 'EmailTaken'],
  updateUser: ['UpdateUserSuccess', 'ValidationError', 'UserNotFound', 'EmailTaken', 'VersionConflict'],
};

/** Sends one generated action; checks what holds for any answer and returns the payload (undefined for a 400). */
async function send(server: TestServer, a: Action) {
  const mutation = a.kind === 'uncoercible' ? a.request.mutation : a.kind;
  const input = a.kind === 'uncoercible' ? a.request.input : a.input;
  const { status, body } = await gql<Record<string, Payload>>(server.url, mutation === 'createUser' ? CREATE : UPDATE, { input });
  const shown = `${JSON.stringify(a)} -> ${status} ${JSON.stringify(body)}`;
  expect(status, shown).toBeLessThan(500);
  expect(body.errors?.some((e) => e.message === 'Unexpected error.') ?? false, shown).toBe(false);
  if (a.kind === 'uncoercible') {
    expect([status, body.data, (body.errors?.length ?? 0) > 0], shown).toEqual([400, undefined, true]);
    return { shown, payload: undefined };
  }
  expect([status, body.errors], shown).toEqual([200, undefined]);
  const answered = body.data![mutation]!;
  expect(UNIONS[mutation], shown).toContain(answered.__typename);
  // The model speaks of the user ids commands carry; the API answers with global ids.
  const payload = answered.user ? { ...answered, user: { ...answered.user, id: bareUserId(answered.user.id) } } : answered;
  return { shown, payload };
}

/**
 * The invariants, whatever happened: no two users share an email ignoring
 * case, every stream's versions are 1..n, and the read model holds exactly
 * the users the streams fold to. Returns the users listed.
 */
async function checkConsistency(server: TestServer): Promise<ModelUser[]> {
  await waitUntil(async () => {
    const health = (await (await fetch(new URL('/health', server.url))).json()) as { projections: { lag: number }[] };
    return health.projections.every((p) => p.lag === 0);
  }, 'the projections to catch up');

  type Page = { users: { edges: { node: ModelUser }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
  const listed: ModelUser[] = [];
  let after: string | null = null;
  for (;;) {
    const { body }: { body: { data?: Page } } = await gql<Page>(
      server.url,
      'query($after: String) { users(first: 100, after: $after) { edges { node { id username email version } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    const page: Page['users'] = body.data!.users;
    listed.push(...page.edges.map(({ node }) => ({ ...node, id: bareUserId(node.id) })));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const emails = listed.map((user) => ignoringCase(user.email));
  expect(new Set(emails).size).toBe(emails.length);

  const events = await server.system.store.readAll({ after: LOG_START, limit: 1_000_000 });
  const streams = new Map<string, StoredEvent[]>();
  for (const event of events) streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event]);
  for (const [id, stream] of streams) expect(stream.map((e) => e.streamVersion), id).toEqual(stream.map((_, i) => i + 1));
  const folded = [...streams.values()].map((stream) => {
    const view = userViewFromStream(stream)!;
    return { id: view.id, username: view.username, email: view.email, version: view.version };
  });
  expect(new Map(listed.map((user) => [user.id, user]))).toEqual(new Map(folded.map((user) => [user.id, user])));
  return listed;
}

/** A fresh server (and store) for the enclosing suite; its state carries over between the suite's runs. */
function serverPerSuite(setup: (server: TestServer) => Promise<void> = async () => {}): () => TestServer {
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await startTestServer();
    await setup(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return () => {
    if (!started) throw new Error('the suite server is not started yet');
    return started;
  };
}

describe('mutations on arbitrary input, one at a time', () => {
  const server = serverPerSuite();
  const model = createModel();
  let commandsSent = 0;

  it('answer with the union member the rules predict, or 400 for uncoercible variables; never 500, never masked', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
        run += 1;
        const tag = `r${String(run).padStart(4, '0')}`;
        for (const generatedAction of actions) {
          const a = tagged(generatedAction, tag, model.lastGenerated());
          const { shown, payload } = await send(server(), a);
          if (a.kind === 'uncoercible' || !payload) continue;
          commandsSent += 1;
          const expected = a.kind === 'createUser' ? model.createUser(a.input, () => payload.user?.id) : model.updateUser(a.input);
          expect(payload.__typename, shown).toBe(expected.typename);
          if (expected.user) expect(payload.user, shown).toEqual(expected.user);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('leave the read model and the store consistent, holding exactly the model’s users', async () => {
    const listed = await checkConsistency(server());
    expect(new Map(listed.map((user) => [user.id, user]))).toEqual(model.users);
    expect(model.users.size).toBeGreaterThan(20); // the run made users, so the checks had something to check

    // The metrics saw the same: every command that reached the bus, every event written.
    const metrics = await scrape(server().url);
    const sum = (name: string) => metrics.select(name).reduce((total, sample) => total + sample.value, 0);
    expect(sum('cqrs_commands_total')).toBe(commandsSent);
    expect(metrics.select('cqrs_commands_total', { outcome: 'error' })).toEqual([]);
    const stored = await server().system.store.readAll({ after: LOG_START, limit: 1_000_000 });
    expect(sum('cqrs_events_appended_total')).toBe(stored.length);
  });
});

describe('mutations on arbitrary input, many at once', () => {
  const server = serverPerSuite();

  it('answer each with a union member or a 400, and keep the invariants', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 2, maxLength: 10 }), async (actions) => {
        run += 1;
        // Every action of a run targets the same few ids, emails and keys, at the same time.
        const tag = `r${String(run).padStart(4, '0')}`;
        await Promise.all(actions.map((a) => send(server(), tagged(a, tag, 'none'))));
      }),
      { numRuns: Math.ceil(RUNS / 2), endOnFailure: true },
    );
    expect((await checkConsistency(server())).length).toBeGreaterThan(10);
  });
});

describe('queries on arbitrary arguments', () => {
  const server = serverPerSuite(async (started) => {
    for (let i = 0; i < 5; i++) await gql(started.url, CREATE, { input: { username: `q_${i}`, email: `q${i}@example.com` } });
  });

  const cursor = fc.oneof(
    arbitraryText,
    fc.constantFrom('user:0', 'user:1', 'user:-1', 'user:01', `user:${'9'.repeat(15)}`, `user:${'9'.repeat(16)}`, 'user:1e3', 'x:1').map((text) =>
      Buffer.from(text).toString('base64url'),
    ),
  );
  const count = fc.oneof(fc.integer({ min: -2, max: 102 }), fc.constantFrom(2 ** 31 - 1, -(2 ** 31)));
  const args = fc.record({ id: arbitraryText, first: count, last: count, after: cursor, before: cursor }, { requiredKeys: ['id'] });

  it('answer with data or a client error, never 500 or masked', async () => {
    await fc.assert(
      fc.asyncProperty(args, async ({ id, ...page }) => {
        const { status, body } = await gql(
          server().url,
          'query($id: ID!, $first: Int, $last: Int, $after: String, $before: String) { user(id: $id) { id } users(first: $first, last: $last, after: $after, before: $before) { totalCount edges { cursor } } }',
          { id, ...page },
        );
        const shown = `${JSON.stringify({ id, ...page })} -> ${status} ${JSON.stringify(body)}`;
        expect(status, shown).toBe(200);
        for (const error of body.errors ?? []) expect(error.extensions?.['code'], shown).toBe('BAD_USER_INPUT');
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});
