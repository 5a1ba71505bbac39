/**
 * Limits on the shape of hostile operations (graphql-armor) and on page
 * sizes, through the app in process (`app.fetch`): each refusal is a typed
 * error, never a 500, and the defaults let the API's own operations through.
 * What needs the real listener (body size while streaming, websocket
 * messages, subscriptions per connection, the README table's probes) is in
 * limits.e2e.test.ts.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMIT_CODES } from '../../src/server/operation-limits.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { aliases, deepQuery, defaultOf, tooMuch } from './operation-shapes.js';

let api: InProcessApp;
beforeAll(async () => {
  api = await createInProcessApp();
});
afterAll(async () => {
  await api?.close();
});

describe('operation limits (graphql-armor)', () => {
  it.each(tooMuch)('too many %s: 400 with its code, nothing run', async (_limit, code, query) => {
    const { status, body } = await api.gql(query);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.['code']).toBe(code);
    expect(body.errors?.[0]?.message).toMatch(/limit of \d+ exceeded/i);
  });

  it.each(tooMuch)('too many %s with Accept: application/json: 200 with the error (GraphQL over HTTP), no data', async (_limit, code, query) => {
    const { status, body } = await api.gql(query, undefined, { accept: 'application/json' });
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.['code']).toBe(code);
  });

  describe('the defaults let real operations through', () => {
    it(`${defaultOf('MAX_ALIASES')} aliased user(id:) lookups in one request`, async () => {
      const { status, body } = await api.gql(`{ ${aliases(defaultOf('MAX_ALIASES'), 'user(id: "u") { id username email version createdAt updatedAt }')} }`);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(Object.keys(body.data as object)).toHaveLength(defaultOf('MAX_ALIASES'));
    });

    it('the largest page with every field, page info and total count', async () => {
      const { status, body } = await api.gql(
        '{ users(first: 100) { totalCount edges { cursor node { id username email version createdAt updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }',
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });

    it('GraphiQL’s full introspection query', async () => {
      const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
      const { status, body } = await api.gql(query);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });

    it(`depth ${defaultOf('MAX_DEPTH')}`, async () => {
      const { status, body } = await api.gql(deepQuery(defaultOf('MAX_DEPTH')));
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });
  });

  it('are configurable', async () => {
    const strict = await createInProcessApp({ env: { MAX_DEPTH: '3', MAX_ALIASES: '1' } });
    try {
      const deep = await strict.gql('{ users { edges { node { id } } } }');
      expect(deep.body.errors?.[0]).toMatchObject({ message: 'Query depth limit of 3 exceeded, found 4.', extensions: { code: LIMIT_CODES.maxDepth, limit: 3 } });
      const aliased = await strict.gql(`{ ${aliases(2)} }`);
      expect(aliased.body.errors?.[0]?.extensions).toEqual({ code: LIMIT_CODES.maxAliases, limit: 1 });
    } finally {
      await strict.close();
    }
  });
});

describe('what the README says of the limits', () => {
  it('depth: introspection is excepted, by __type as by __schema; the same depth elsewhere is refused', async () => {
    // Deeper than MAX_DEPTH, within graphql-js's own bound on introspection cycles.
    const ofType = (levels: number): string => (levels === 0 ? 'name' : `name ofType { ${ofType(levels - 1)} }`);
    const depth = defaultOf('MAX_DEPTH') + 2;
    for (const query of [`{ __type(name: "User") { fields { type { ${ofType(depth)} } } } }`, `{ __schema { types { fields { type { ${ofType(depth)} } } } } }`]) {
      const { status, body } = await api.gql(query);
      expect(body.errors, query).toBeUndefined();
      expect(status).toBe(200);
    }
    const { body } = await api.gql(deepQuery(depth));
    expect(body.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxDepth);
  });

  it('aliases: aliased __typename fields count like any other', async () => {
    const limit = defaultOf('MAX_ALIASES');
    const over = await api.gql(`{ ${aliases(limit + 1, '__typename')} }`);
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toEqual({ code: LIMIT_CODES.maxAliases, limit });
    const at = await api.gql(`{ ${aliases(limit, '__typename')} }`);
    expect(at.body.errors).toBeUndefined();
    expect(Object.keys(at.body.data as object)).toHaveLength(limit);
  });

  it.each([['first: 101'], ['first: 100000'], ['last: 100000'], ['first: 2147483647']])(
    'page size: users(%s) is BAD_USER_INPUT on the field (200), not a cost refusal',
    async (argument) => {
      const { status, body } = await api.gql(`{ users(${argument}) { totalCount edges { node { id username } } } }`);
      expect(status).toBe(200);
      expect(body.data).toBeNull(); // `users` is non-null, so its error nulls the whole data
      expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0]?.message).toMatch(/100/);
    },
  );

  it('a page size the server serves still counts at its size towards the cost', async () => {
    const costly = tooMuch.find(([limit]) => limit === 'cost')![2];
    expect(costly).toContain('first: 100)');
    for (const first of ['100', '100000']) {
      const { status, body } = await api.gql(costly.replaceAll('first: 100)', `first: ${first})`));
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxCost);
    }
  });
});
