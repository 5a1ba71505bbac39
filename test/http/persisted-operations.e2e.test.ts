/**
 * Trusted documents over graphql-ws, against the real server (a websocket on
 * its port): only the manifest's operations run, sent by id. The HTTP side of
 * persisted operations is in persisted-operations.int.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSISTED_OPERATION_CODES } from '../../src/server/persisted-operations.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

async function post(url: string, payload: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

describe('trusted documents over graphql-ws', () => {
  // graphql-ws requires a `query` string: empty (or the listed text itself) with the id in `extensions`.
  const listed = {
    replay: 'subscription Replay { userEvents(after: "0") { __typename userId } }',
    create: 'mutation Create($input: CreateUserInput!) { createUser(input: $input) { __typename } }',
  };
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trusted-documents-ws-'));
    const manifest = join(dir, 'persisted-documents.json');
    writeFileSync(manifest, JSON.stringify(listed));
    server = await startTestServer({ env: { TRUSTED_DOCUMENTS_FILE: manifest } });
    const input = { id: 'ws-seed', email: 'ws-seed@example.com', username: 'ws_seed' };
    expect((await post(server.url, { documentId: 'create', variables: { input } })).body).toEqual({ data: { createUser: { __typename: 'CreateUserSuccess' } } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  type Answer = { result?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };
  /** The first thing the server answers a subscribe message with: a result, or the errors. */
  async function firstAnswer(payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }): Promise<Answer> {
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      return await new Promise<Answer>((resolve, reject) => {
        client.subscribe(payload, {
          next: (result) => resolve({ result }),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error as Answer['errors'] }) : reject(error as Error)),
          complete: () => reject(new Error('completed without an answer')),
        });
      });
    } finally {
      await client.dispose();
    }
  }

  it('runs a listed document sent by id, with an empty query or the listed text', async () => {
    const expected = { result: { data: { userEvents: { __typename: 'UserCreated', userId: 'User:ws-seed' } } } };
    expect(await firstAnswer({ query: '', extensions: persisted('replay') })).toEqual(expected);
    expect(await firstAnswer({ query: listed.replay, extensions: { documentId: 'replay' } })).toEqual(expected);
  });

  it('refuses text without an id, other text with an id, and unknown ids; writes nothing', async () => {
    const head = await server.system.store.headPosition();
    const mutation = 'mutation { createUser(input: { id: "ws-raw", email: "ws-raw@example.com", username: "ws_raw" }) { __typename } }';
    const refusals: [Answer, string][] = [
      [await firstAnswer({ query: listed.replay }), PERSISTED_OPERATION_CODES.idRequired],
      [await firstAnswer({ query: mutation }), PERSISTED_OPERATION_CODES.idRequired],
      [await firstAnswer({ query: mutation, extensions: persisted('create') }), PERSISTED_OPERATION_CODES.idRequired],
      [await firstAnswer({ query: '', extensions: persisted('unknown') }), PERSISTED_OPERATION_CODES.notInList],
    ];
    for (const [answer, code] of refusals) expect(answer.errors?.[0]?.extensions?.['code'], JSON.stringify(answer)).toBe(code);
    expect(await server.system.store.headPosition()).toEqual(head);
  });
});
