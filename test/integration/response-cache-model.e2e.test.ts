/**
 * Model-based test of the response cache: random sequences of creates,
 * updates and reads (some in concurrent bursts, so reads race the
 * projection's invalidations), against a model of what the read model holds
 * once every acknowledged write is projected. With the cache on, a read that
 * carries the position of the last acknowledged write must answer exactly the
 * model (the read model at that position or later), and say a position at
 * least that new. RESPONSE_CACHE_MODEL_RUNS raises the number of cases
 * (1,000 were run once; see the commit that added this file).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsed } from '../support/positions.js';
import { createTestDatabase, postgresUnavailable } from '../support/postgres.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';

const RUNS = Number(process.env['RESPONSE_CACHE_MODEL_RUNS'] ?? 12);

const CREATE = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on CreateUserSuccess { position } } }';
const UPDATE = 'mutation ($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on UpdateUserSuccess { position } } }';
const READ_USER = 'query ($id: ID!) { user(id: $id) { id username version } }';
const READ_LAST = 'query ($n: Int!) { users(last: $n) { totalCount edges { node { id username version } } } }';
// No totalCount: the page alone must learn of a user created after it when it has no next page.
const READ_FIRST = 'query ($n: Int!) { users(first: $n) { edges { node { id username version } } pageInfo { hasNextPage } } }';

type Op =
  | { type: 'create'; on: number; name: string }
  | { type: 'update'; on: number; user: number; name: string }
  | { type: 'readUser'; on: number; user: number; withPosition: boolean }
  | { type: 'readLast'; on: number; n: number; withPosition: boolean }
  | { type: 'readFirst'; on: number; n: number; withPosition: boolean }
  /** An update and reads of the same user at once: the reads race the projection. */
  | { type: 'burst'; on: number; user: number; name: string; readers: number };

const name = fc.stringMatching(/^[a-z][a-z0-9_]{2,12}$/);
const ops = (instances: number) => {
  const on = fc.nat({ max: instances - 1 });
  const user = fc.nat({ max: 1000 });
  return fc.array(
    fc.oneof(
      fc.record({ type: fc.constant('create' as const), on, name }),
      fc.record({ type: fc.constant('update' as const), on, user, name }),
      fc.record({ type: fc.constant('readUser' as const), on, user, withPosition: fc.boolean() }),
      fc.record({ type: fc.constant('readLast' as const), on, n: fc.integer({ min: 1, max: 5 }), withPosition: fc.boolean() }),
      fc.record({ type: fc.constant('readFirst' as const), on, n: fc.integer({ min: 1, max: 5 }), withPosition: fc.boolean() }),
      fc.record({ type: fc.constant('burst' as const), on, user, name, readers: fc.integer({ min: 1, max: 4 }) }),
    ),
    { minLength: 1, maxLength: 25 },
  );
};

type ModelUser = { id: string; username: string; version: number };

/**
 * Every user the servers hold, in creation order, as the read model holds them once projected, and the
 * position of the last acknowledged write. Shared by all runs: a run's first read must still carry the
 * position of the previous run's last write, or it may rightly answer from before it.
 */
function createModel() {
  const users: ModelUser[] = [];
  let serial = 0;
  return { users, last: undefined as string | undefined, nextId: () => `model-${Date.now().toString(36)}-${(serial += 1)}` };
}

type Answer<T> = { status: number; body: { data?: T; errors?: unknown[]; extensions?: { position?: string } } };

async function runOps(servers: readonly TestServer[], model: ReturnType<typeof createModel>, sequence: readonly Op[], exactWithoutPosition: boolean) {
  const store = servers[0]!.system.store;
  const headers = (withPosition: boolean): Record<string, string> => (withPosition && model.last ? { 'x-min-position': model.last } : {});
  const at = (on: number) => servers[on % servers.length]!.url;
  const checkPosition = (answer: Answer<unknown>, sent: boolean) => {
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    if (sent && model.last) expect(parsed(store, answer.body.extensions!.position!) >= parsed(store, model.last)).toBe(true);
  };
  const update = async (on: number, user: ModelUser, username: string) => {
    const answer = await gql<{ updateUser: { __typename: string; position: string } }>(at(on), UPDATE, { input: { id: user.id, username } });
    expect(answer.body.data?.updateUser.__typename, JSON.stringify(answer.body)).toBe('UpdateUserSuccess');
    model.last = answer.body.data!.updateUser.position;
    user.username = username;
    user.version += 1;
  };
  for (const op of sequence) {
    const target = model.users.length === 0 ? undefined : model.users[('user' in op ? op.user : 0) % model.users.length]!;
    switch (op.type) {
      case 'create': {
        const id = model.nextId();
        const answer = await gql<{ createUser: { __typename: string; position: string } }>(at(op.on), CREATE, { input: { id, username: op.name, email: `${id}@example.com` } });
        expect(answer.body.data?.createUser.__typename, JSON.stringify(answer.body)).toBe('CreateUserSuccess');
        model.last = answer.body.data!.createUser.position;
        model.users.push({ id, username: op.name, version: 1 });
        break;
      }
      case 'update':
        if (target) await update(op.on, target, op.name);
        break;
      case 'readUser': {
        if (!target) break;
        const sent = op.withPosition || !exactWithoutPosition;
        const answer = await gql<{ user: { id: string; username: string; version: number } | null }>(at(op.on), READ_USER, { id: target.id }, headers(sent));
        checkPosition(answer, sent);
        expect(answer.body.data?.user).toEqual({ id: `User:${target.id}`, username: target.username, version: target.version });
        break;
      }
      case 'readLast': {
        const sent = op.withPosition || !exactWithoutPosition;
        const answer = await gql<{ users: { totalCount: number; edges: { node: { id: string; username: string; version: number } }[] } }>(
          at(op.on),
          READ_LAST,
          { n: op.n },
          headers(sent),
        );
        checkPosition(answer, sent);
        const page = answer.body.data!.users;
        expect(page.totalCount).toBe(model.users.length);
        // Other suites' users come before these in creation order; the newest are this model's.
        const expected = model.users.slice(-op.n).map((user) => ({ ...user, id: `User:${user.id}` }));
        expect(page.edges.map((edge) => edge.node).slice(-expected.length)).toEqual(expected);
        break;
      }
      case 'readFirst': {
        const sent = op.withPosition || !exactWithoutPosition;
        const answer = await gql<{ users: { edges: { node: ModelUser }[]; pageInfo: { hasNextPage: boolean } } }>(at(op.on), READ_FIRST, { n: op.n }, headers(sent));
        checkPosition(answer, sent);
        const page = answer.body.data!.users;
        expect(page.edges.map((edge) => edge.node)).toEqual(model.users.slice(0, op.n).map((user) => ({ ...user, id: `User:${user.id}` })));
        expect(page.pageInfo.hasNextPage).toBe(model.users.length > op.n);
        break;
      }
      case 'burst': {
        if (!target) break;
        const before = { ...target };
        const reads = Array.from({ length: op.readers }, (_, i) =>
          gql<{ user: { username: string; version: number } }>(servers[(op.on + i) % servers.length]!.url, READ_USER, { id: target.id }, headers(true)),
        );
        await update(op.on, target, op.name);
        for (const read of await Promise.all(reads)) {
          // Racing the write, a read sees the user before or after it, never anything else.
          const user = read.body.data!.user;
          expect([before.version, target.version]).toContain(user.version);
          expect(user.username).toBe(user.version === target.version ? target.username : before.username);
        }
        // What a racing read left in the cache must not outlive the write.
        const after = await gql<{ user: { username: string; version: number } }>(at(op.on + 1), READ_USER, { id: target.id }, headers(true));
        expect(after.body.data?.user).toMatchObject({ username: target.username, version: target.version });
        break;
      }
    }
  }
}

describe('response cache against the model, one instance', () => {
  let server: TestServer;
  const model = createModel();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers every read exactly as the read model does after the last acknowledged write', async () => {
    await fc.assert(
      fc.asyncProperty(ops(1), (sequence) => runOps([server], model, sequence, true)),
      { numRuns: RUNS },
    );
    expect((await gql<{ users: { totalCount: number } }>(server.url, '{ users { totalCount } }')).body.data?.users.totalCount).toBe(model.users.length);
  }, 600_000);
});

describe.skipIf(postgresUnavailable !== null)('response cache against the model, two instances on PostgreSQL', () => {
  const servers: TestServer[] = [];
  const model = createModel();
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase('model');
    drop = database.drop;
    for (let i = 0; i < 2; i++) servers.push(await startTestServer({ env: { DATABASE_URL: database.url } }));
  });
  afterAll(async () => {
    for (const server of servers.reverse()) await server.stop();
    await drop?.();
  });

  it('answers every read that carries the last position exactly as the read model does, on either instance', async () => {
    await fc.assert(
      fc.asyncProperty(ops(2), (sequence) => runOps(servers, model, sequence, false)),
      { numRuns: RUNS },
    );
  }, 600_000);
});
