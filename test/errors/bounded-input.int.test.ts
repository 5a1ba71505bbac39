import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { LOG_START } from '../support/positions.js';

describe('input that must not be stored or echoed unbounded', () => {
  let api: InProcessApp;
  beforeAll(async () => {
    api = await createInProcessApp();
  });
  afterAll(() => api.close());

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['with a space', 'a key'],
    ['non-ASCII', 'clé'],
  ])('rejects an idempotency key that is %s, writing nothing', async (_case, key) => {
    const { body } = await api.gql<{ createUser: { __typename: string; fields?: { field: string }[] } }>(
      'mutation ($key: String) { createUser(input: { username: "keyed", email: "keyed@example.com", idempotencyKey: $key }) { __typename ... on ValidationError { fields { field } } } }',
      { key },
    );
    expect(body.data?.createUser).toEqual({ __typename: 'ValidationError', fields: [{ field: 'idempotencyKey' }] });
    expect(await api.system.store.headPosition()).toBe(LOG_START);
  });

  it('accepts a 255-character key', async () => {
    const { body } = await api.gql<{ createUser: { __typename: string } }>(
      'mutation ($key: String) { createUser(input: { username: "keyed", email: "keyed@example.com", idempotencyKey: $key }) { __typename } }',
      { key: 'k'.repeat(255) },
    );
    expect(body.data?.createUser.__typename).toBe('CreateUserSuccess');
  });

  it('answers a large malformed JSON body with a short error', async () => {
    const response = await api.fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: `{"query": "x" ${'J'.repeat(200_000)}`,
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ errors: [{ message: 'POST body sent invalid JSON.' }] });
    expect(text.length).toBeLessThan(1000);
  });
});
