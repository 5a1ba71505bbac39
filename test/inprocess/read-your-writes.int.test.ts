/**
 * Read-your-writes through `app.fetch`. In one process the memory projection
 * usually catches up before the next request anyway, so these tests slow it
 * down on purpose: only the query bus's wait for the caller's position can
 * then make a read right after a write see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyModule } from '../../src/module.js';
import { modules } from '../../src/modules.js';
import { CreateUserDocument, UpdateUserDocument, UserDocument, UsersDocument } from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { waitUntil } from '../support/wait.js';

const PROJECTION_DELAY_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same module whose in-memory projections apply each batch `delayMs` late. */
const withSlowProjections = (module: AnyModule, delayMs: number): AnyModule => ({
  ...module,
  memory: (onQuery) => {
    const opened = module.memory(onQuery);
    return {
      ...opened,
      sinks: opened.sinks.map((sink) => ({
        name: sink.name,
        checkpoint: () => sink.checkpoint(),
        reset: () => sink.reset(),
        apply: async (events, from) => {
          await sleep(delayMs);
          return sink.apply(events, from);
        },
      })),
    };
  },
});

describe('read-your-writes with a lagging projection', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp({ modules: modules.map((module) => withSlowProjections(module, PROJECTION_DELAY_MS)) });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('every mutation payload equals the user(id:) and users queries sent right after it', async () => {
    const created = expectType(
      (await api.executeOk(CreateUserDocument, { input: { id: 'lag', username: 'lag_0', email: 'lag.0@example.com' } })).createUser,
      'CreateUserSuccess',
    );
    expect((await api.executeOk(UserDocument, { id: 'lag' })).user).toEqual(created.user);
    for (let i = 1; i <= 5; i++) {
      const input = i % 2 === 0 ? { id: 'lag', username: `lag_${i}` } : { id: 'lag', email: `lag.${i}@example.com` };
      const updated = expectType((await api.executeOk(UpdateUserDocument, { input })).updateUser, 'UpdateUserSuccess');
      expect(updated.user).toMatchObject({ ...input, id: 'User:lag', version: i + 1 });
      expect((await api.executeOk(UserDocument, { id: 'lag' })).user).toEqual(updated.user);
      const { users } = await api.executeOk(UsersDocument, { first: 10 });
      expect(users.edges.map((edge) => edge.node)).toEqual([updated.user]);
    }
  });
});

describe('read-your-writes when the projection is stalled', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '100' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers the mutation from the event stream after the wait; the read model catches up once the projector runs', async () => {
    const input = { id: 'stalled', username: 'before', email: 'stalled@example.com' };
    expectType((await api.executeOk(CreateUserDocument, { input })).createUser, 'CreateUserSuccess');
    await api.system.projector.stop();

    const updated = expectType((await api.executeOk(UpdateUserDocument, { input: { id: 'stalled', username: 'after' } })).updateUser, 'UpdateUserSuccess');
    // The state after this write, although the read model has not seen it.
    expect(updated.user).toMatchObject({ username: 'after', version: 2 });
    expect((await api.executeOk(UserDocument, { id: 'stalled' })).user).toMatchObject({ username: 'before', version: 1 });
    expect((await api.system.projector.status())[0]).toMatchObject({ name: 'users', lag: 1 });

    await api.system.projector.start();
    await waitUntil(async () => (await api.executeOk(UserDocument, { id: 'stalled' })).user?.version === 2, 'catch-up');
    expect((await api.executeOk(UserDocument, { id: 'stalled' })).user).toEqual(updated.user);
  });
});
