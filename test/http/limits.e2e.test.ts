/**
 * Limits on hostile input, against the real server: operation shape
 * (graphql-armor), body size, websocket message size and subscriptions per
 * connection. Each refusal is a typed error, never a 500, and the defaults
 * let the API's own operations through.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { getIntrospectionQuery, parse } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../src/server/config.js';
import { LIMIT_CODES } from '../../src/server/operation-limits.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const MIB = 1024 * 1024;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const defaultOf = (name: keyof typeof settings) => Number(settings[name].schema.safeParse(undefined).data);
const aliases = (count: number, field = 'user(id: "u") { id }') => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

/** Operations just past each default limit (and their code). */
const tooMuch: [string, string, string][] = [
  ['depth', LIMIT_CODES.maxDepth, deepQuery(defaultOf('MAX_DEPTH') + 1)],
  ['aliases', LIMIT_CODES.maxAliases, `{ ${aliases(defaultOf('MAX_ALIASES') + 1)} }`],
  ['cost', LIMIT_CODES.maxCost, `{ ${aliases(3, 'users(first: 100) { totalCount edges { cursor node { id username email version createdAt updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }')} }`],
  ['tokens', LIMIT_CODES.maxTokens, `{ ${'__typename '.repeat(defaultOf('MAX_TOKENS'))}}`],
  ['directives', LIMIT_CODES.maxDirectives, `{ ${'__typename @include(if: true) '.repeat(defaultOf('MAX_DIRECTIVES') + 1)}}`],
];

/**
 * A valid query of any depth. The schema's deepest path is 4 levels
 * (users > edges > node > id); graphql-armor counts each inline fragment as
 * a level too, so `... on User { }` wrappers go deeper.
 */
function deepQuery(depth: number): string {
  let inner = 'id';
  for (let level = 4; level < depth; level += 1) inner = `... on User { ${inner} }`;
  return `{ users { edges { node { ${inner} } } } }`;
}

describe('operation limits (graphql-armor)', () => {
  it.each(tooMuch)('too many %s: 400 with its code, nothing run', async (_limit, code, query) => {
    const { status, body } = await gql(server.url, query);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.['code']).toBe(code);
    expect(body.errors?.[0]?.message).toMatch(/limit of \d+ exceeded/i);
  });

  it.each(tooMuch)('too many %s with Accept: application/json: 200 with the error (GraphQL over HTTP), no data', async (_limit, code, query) => {
    const { status, body } = await gql(server.url, query, undefined, { accept: 'application/json' });
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.['code']).toBe(code);
  });

  it.each(transports)('%s: the same limits refuse a subscription', async (transport) => {
    const client = openClient(transport, server);
    try {
      const document = parse(`subscription { userEvents { ${aliases(defaultOf('MAX_ALIASES') + 1, 'position')} } }`);
      const sub = client.subscribe(document as TypedDocumentNode<unknown, Record<string, never>>);
      await sub.waitForEnd();
      expect(sub.data()).toEqual([]);
      expect(JSON.stringify(sub.error() ?? sub.results)).toContain(LIMIT_CODES.maxAliases);
    } finally {
      await client.dispose();
    }
  });

  describe('the defaults let real operations through', () => {
    it(`${defaultOf('MAX_ALIASES')} aliased user(id:) lookups in one request`, async () => {
      const { status, body } = await gql(server.url, `{ ${aliases(defaultOf('MAX_ALIASES'), 'user(id: "u") { id username email version createdAt updatedAt }')} }`);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(Object.keys(body.data as object)).toHaveLength(defaultOf('MAX_ALIASES'));
    });

    it('the largest page with every field, page info and total count', async () => {
      const { status, body } = await gql(
        server.url,
        '{ users(first: 100) { totalCount edges { cursor node { id username email version createdAt updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }',
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });

    it('GraphiQL’s full introspection query', async () => {
      const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
      const { status, body } = await gql(server.url, query);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });

    it(`depth ${defaultOf('MAX_DEPTH')}`, async () => {
      const { status, body } = await gql(server.url, deepQuery(defaultOf('MAX_DEPTH')));
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });
  });

  it('are configurable', async () => {
    const strict = await startTestServer({ env: { MAX_DEPTH: '3', MAX_ALIASES: '1' } });
    try {
      const deep = await gql(strict.url, '{ users { edges { node { id } } } }');
      expect(deep.body.errors?.[0]).toMatchObject({ message: 'Query depth limit of 3 exceeded, found 4.', extensions: { code: LIMIT_CODES.maxDepth, limit: 3 } });
      const aliased = await gql(strict.url, `{ ${aliases(2)} }`);
      expect(aliased.body.errors?.[0]?.extensions).toEqual({ code: LIMIT_CODES.maxAliases, limit: 1 });
    } finally {
      await strict.stop();
    }
  });
});

describe('request body size', () => {
  const padded = (bytes: number) => JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes) } });

  it('a body over MAX_BODY_BYTES (Content-Length): 413 REQUEST_ENTITY_TOO_LARGE', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
      body: padded(MIB + 1),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]).toMatchObject({ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } });
  });

  it('a chunked body (no Content-Length) that grows past the limit: 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"query":"{ __typename }","variables":{"pad":"'));
      },
      pull(controller) {
        // At most 4 MiB: the server must have answered long before.
        if (sent > 4 * MIB) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    await response.body?.cancel();
  });

  it('is refused from the headers alone: the 413 comes although most of the declared body was never sent', async () => {
    const declared = 50 * MIB;
    const answer = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: ${GRAPHQL_RESPONSE}\r\nContent-Length: ${declared}\r\n\r\n{"query":"`,
        );
      });
      let received = '';
      socket.on('data', (data) => {
        received += data.toString('utf8');
        if (received.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('a body just under the limit is read and answered', async () => {
    const { status } = await gql(server.url, '{ __typename }', { pad: 'x'.repeat(MIB - 1024) });
    expect(status).toBe(200);
  });

  it('a websocket message over the limit closes the socket with 1009', async () => {
    const closed = new Promise<number>((resolve) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(MIB + 1) } })));
      socket.on('close', (code) => resolve(code));
    });
    expect(await closed).toBe(1009);
  });
});

describe('subscriptions per websocket connection', () => {
  it('one past MAX_SUBSCRIPTIONS_PER_CONNECTION is refused with an error; the others keep running', async () => {
    const limited = await startTestServer({ env: { MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' } });
    const client = createWsClient({ url: limited.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    try {
      const outcomes: { completed: boolean; error?: unknown }[] = [];
      const stops = Array.from({ length: 4 }, (_, i) => {
        outcomes[i] = { completed: false };
        return client.subscribe(
          { query: 'subscription { userEvents { position } }' },
          { next: () => undefined, error: (error) => void (outcomes[i]!.error = error), complete: () => void (outcomes[i]!.completed = true) },
        );
      });
      await waitUntil(() => outcomes.some((o) => o.error !== undefined), 'one subscription to be refused');
      const refused = outcomes.filter((o) => o.error !== undefined);
      expect(refused).toHaveLength(1);
      expect(JSON.stringify(refused[0]!.error)).toContain('TOO_MANY_SUBSCRIPTIONS');
      expect(outcomes.filter((o) => o.completed)).toEqual([]);

      // A slot frees up when one ends: a new subscription is accepted and sees the next event.
      stops[0]!();
      await waitUntil(() => outcomes[0]!.completed, 'the first subscription to end');
      const seen: unknown[] = [];
      let lateError: unknown;
      client.subscribe(
        { query: 'subscription { userEvents { userId } }' },
        { next: (value) => void seen.push(value), error: (error) => void (lateError = error), complete: () => undefined },
      );
      // Created until the new subscription (which starts at the head) has seen one: it may subscribe after the first create.
      await waitUntil(async () => {
        if (lateError !== undefined) throw new Error(`refused: ${JSON.stringify(lateError)}`);
        if (seen.length > 0) return true;
        await gql(limited.url, `mutation { createUser(input: { username: "slot_${Date.now()}", email: "slot${Date.now()}@example.com" }) { __typename } }`);
        return false;
      }, 'the new subscription to receive an event');
      expect(lateError).toBeUndefined();
    } finally {
      await client.dispose();
      await limited.stop();
    }
  });
});

describe('what the README says of the limits', () => {
  it('depth: introspection is excepted, by __type as by __schema; the same depth elsewhere is refused', async () => {
    // Deeper than MAX_DEPTH, within graphql-js's own bound on introspection cycles.
    const ofType = (levels: number): string => (levels === 0 ? 'name' : `name ofType { ${ofType(levels - 1)} }`);
    const depth = defaultOf('MAX_DEPTH') + 2;
    for (const query of [`{ __type(name: "User") { fields { type { ${ofType(depth)} } } } }`, `{ __schema { types { fields { type { ${ofType(depth)} } } } } }`]) {
      const { status, body } = await gql(server.url, query);
      expect(body.errors, query).toBeUndefined();
      expect(status).toBe(200);
    }
    const { body } = await gql(server.url, deepQuery(depth));
    expect(body.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxDepth);
  });

  it('aliases: aliased __typename fields count like any other', async () => {
    const limit = defaultOf('MAX_ALIASES');
    const over = await gql(server.url, `{ ${aliases(limit + 1, '__typename')} }`);
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toEqual({ code: LIMIT_CODES.maxAliases, limit });
    const at = await gql(server.url, `{ ${aliases(limit, '__typename')} }`);
    expect(at.body.errors).toBeUndefined();
    expect(Object.keys(at.body.data as object)).toHaveLength(limit);
  });

  it.each([['first: 101'], ['first: 100000'], ['last: 100000'], ['first: 2147483647']])(
    'page size: users(%s) is BAD_USER_INPUT on the field (200), not a cost refusal',
    async (argument) => {
      const { status, body } = await gql(server.url, `{ users(${argument}) { totalCount edges { node { id username } } } }`);
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
      const { status, body } = await gql(server.url, costly.replaceAll('first: 100)', `first: ${first})`));
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.['code']).toBe(LIMIT_CODES.maxCost);
    }
  });

  /**
   * One probe per row of the README's "Limits on hostile input" table: it
   * sends one past the default and returns what the server answered, which
   * must be what the row's last cell says.
   */
  const probes: Record<string, () => Promise<string[]>> = {
    'request body, websocket message': async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
        body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(defaultOf('MAX_BODY_BYTES')) } }),
      });
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      const closed = await new Promise<number>((resolve) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(defaultOf('MAX_BODY_BYTES')) } })));
        socket.on('close', (code) => resolve(code));
      });
      return [`HTTP ${response.status}`, body.errors[0]!.extensions.code, `closed with ${closed}`];
    },
    'selection depth': async () => codesOf(deepQuery(defaultOf('MAX_DEPTH') + 1)),
    aliases: async () => codesOf(`{ ${aliases(defaultOf('MAX_ALIASES') + 1)} }`),
    'estimated cost': async () => codesOf(tooMuch.find(([limit]) => limit === 'cost')![2]),
    'tokens in the document': async () => codesOf(`{ ${'__typename '.repeat(defaultOf('MAX_TOKENS'))}}`),
    directives: async () => codesOf(`{ ${'__typename @include(if: true) '.repeat(defaultOf('MAX_DIRECTIVES') + 1)}}`),
    'page size': async () => [...(await codesOf('{ users(first: 101) { totalCount } }')), ...(await codesOf('{ users(last: 100000) { totalCount } }'))],
    'subscriptions on one websocket': async () => {
      const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
      const errors: unknown[] = [];
      try {
        for (let i = 0; i <= defaultOf('MAX_SUBSCRIPTIONS_PER_CONNECTION'); i++) {
          client.subscribe({ query: 'subscription { userEvents { position } }' }, { next: () => undefined, error: (error) => void errors.push(error), complete: () => undefined });
        }
        await waitUntil(() => errors.length > 0, 'one subscription to be refused');
        return [...JSON.stringify(errors).matchAll(/"code":"([A-Z_]+)"/g)].map(([, code]) => code!);
      } finally {
        await client.dispose();
      }
    },
    'operations in one batched request': async () => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
        body: JSON.stringify(Array.from({ length: defaultOf('MAX_BATCH_SIZE') + 1 }, () => ({ query: '{ __typename }' }))),
      });
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      return [`HTTP ${response.status}`, body.errors[0]!.extensions.code];
    },
  };

  async function codesOf(query: string): Promise<string[]> {
    const { body } = await gql(server.url, query);
    return (body.errors ?? []).map((error) => String(error.extensions?.['code']));
  }

  const section = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('### Limits on hostile input')[1]!.split('\n#')[0]!;
  const rows = [...section.matchAll(/^\| ([^|`]+?) \| (.+?) \| (.+?) \|$/gm)].map(([, limit, setting, refusal]) => ({ limit: limit!, setting: setting!, refusal: refusal! }))
    .filter((row) => row.limit !== 'limit');

  it('the table has a row for each limit probed here, and no other', () => {
    expect(rows.map((row) => row.limit).sort()).toEqual(Object.keys(probes).sort());
  });

  it.each(rows.map((row) => [row.limit, row] as const))('%s: the default and the refusal are as the table says', async (_limit, row) => {
    const documentedDefault = /`([A-Z_]+)` \((\S+?)( MiB)?\)/.exec(row.setting);
    if (documentedDefault) {
      const [, name, value, mib] = documentedDefault;
      expect(defaultOf(name as keyof typeof settings)).toBe(Number(value) * (mib ? MIB : 1));
    } else {
      expect(row.setting).toBe('`first`/`last` at most 100');
    }
    const answered = await probes[row.limit]!();
    expect(answered.length).toBeGreaterThan(0);
    for (const part of answered) {
      const [, word, number] = /^(HTTP|closed with) (\d+)$/.exec(part) ?? [];
      expect(row.refusal, `${row.limit}: ${part}`).toContain(word === 'HTTP' ? `HTTP ${number}` : word ? `closed with ${number}` : `\`${part}\``);
    }
  });
});
