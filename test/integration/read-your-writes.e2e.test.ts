import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';

type UserFields = { id: string; username: string; version: number };
const UPDATE = `mutation ($input: UpdateUserInput!) {
  updateUser(input: $input) { __typename ... on UpdateUserSuccess { position user { id username version } } }
}`;
const READ = 'query ($id: ID!) { user(id: $id) { id username version } }';

describe('read-your-writes when the projection is stalled', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '100' } });
  });
  afterAll(() => server.stop());

  it('answers the mutation from the event stream after the wait, and the read model catches up later', async () => {
    await gql(server.url, 'mutation { createUser(input: { id: "ryw", username: "before", email: "ryw@example.com" }) { __typename } }');
    await server.system.projector.stop();

    const updated = await gql<{ updateUser: { __typename: string; user: UserFields } }>(server.url, UPDATE, {
      input: { id: 'ryw', username: 'after' },
    });
    // The payload is the state after this write, although the read model has not seen it.
    expect(updated.body.data?.updateUser).toMatchObject({ __typename: 'UpdateUserSuccess', user: { username: 'after', version: 2 } });
    const stale = await gql<{ user: UserFields }>(server.url, READ, { id: 'ryw' });
    expect(stale.body.data?.user).toEqual({ id: 'User:ryw', username: 'before', version: 1 });
    expect((await server.system.projector.status())[0]).toMatchObject({ name: 'users', lag: 1 });

    await server.system.projector.start();
    await waitUntil(async () => (await gql<{ user: UserFields }>(server.url, READ, { id: 'ryw' })).body.data?.user.version === 2, 'catch-up');
    const caughtUp = await gql<{ user: UserFields }>(server.url, READ, { id: 'ryw' });
    expect(caughtUp.body.data?.user).toEqual({ id: 'User:ryw', username: 'after', version: 2 });
  });
});
