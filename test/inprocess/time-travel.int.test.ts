/** Time travel in process, over the memory store (the same cases run on the real server in test/integration/). */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateUserDocument, UpdateUserDocument } from '../gql/graphql.js';
import { expectType } from '../support/graphql.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { describeTimeTravel, TEST_SNAPSHOT_EVERY } from '../integration/time-travel.cases.js';

describeTimeTravel(async () => {
  const api = await createInProcessApp({ env: { SNAPSHOT_EVERY: TEST_SNAPSHOT_EVERY } });
  return { execute: api.execute, gql: api.gql, system: api.system, foreignPosition: 'sqlite:5', close: api.close };
});

describe('README, Time travel', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('runs the query it gives to paste into GraphiQL', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('### Time travel')[1]!.split('\n## ')[0]!;
    const query = /```graphql\n([\s\S]*?)```/.exec(section)![1]!;
    const created = expectType((await api.executeOk(CreateUserDocument, { input: { username: 'readme_alice', email: 'readme.alice@example.com' } })).createUser, 'CreateUserSuccess');
    const updated = expectType((await api.executeOk(UpdateUserDocument, { input: { id: created.user.id, username: 'readme_alice2' } })).updateUser, 'UpdateUserSuccess');
    const { status, body } = await api.gql(query, { id: created.user.id, version: 2, position: created.position, time: updated.user.updatedAt });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      asCreated: { id: created.user.id, username: 'readme_alice', version: 1, updatedAt: created.user.updatedAt },
      atVersion: { username: 'readme_alice2', version: 2 },
      atPosition: { username: 'readme_alice', version: 1 },
      atTime: { username: 'readme_alice2', version: 2, updatedAt: updated.user.updatedAt },
    });
  });
});
