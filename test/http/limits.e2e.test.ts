/**
 * Limits on hostile input that need the real listener: the body limit
 * answered from the headers or while a chunked body streams in, websocket
 * message size, subscriptions per connection, the operation limits on both
 * subscription transports, and the README table's probes (two of its rows are
 * websocket limits). Each refusal is a typed error, never a 500. The
 * operation-shape limits over plain HTTP are in limits.int.test.ts.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../src/server/config.js';
import { LIMIT_CODES } from '../../src/server/operation-limits.js';
import { gql, startTestServer, type TestServer } from '../support/server.js';
import { openClient, transports } from '../support/subscriptions.js';
import { waitUntil } from '../support/wait.js';
import { aliases, deepQuery, defaultOf, tooMuch } from './operation-shapes.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const MIB = 1024 * 1024;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('operation limits (graphql-armor) on subscriptions', () => {
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
