import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/server/logger.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { waitUntil } from '../support/wait.js';

const TOKEN = 'Bearer tok_9f8e7d6c5b4a-secret';
const EMAILS = ['alice.secret@example.com', 'ALICE.SECRET@example.com', 'bob.private@example.org', 'carol.hidden@example.net'];

const CREATE = `mutation Create($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on CreateUserSuccess { user { id } } ... on Error { message } }
}`;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: TOKEN, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: (await response.json()) as { data?: unknown } };
}

describe('logs at LOG_LEVEL=trace', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-logs-'));
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer(dataDir, { LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('give every request an id, carry a client id into the events, and never show emails or tokens', async () => {
    const created = await post(server.url, { query: CREATE, variables: { input: { username: 'alice', email: EMAILS[0] } } }, { 'x-request-id': 'req-logs-1' });
    expect(created.requestId).toBe('req-logs-1');
    expect(JSON.stringify(created.body)).toContain('CreateUserSuccess');

    // A rejected command, a non-coercible input that graphql-js quotes in its message, a GET, an unusable id.
    const taken = await post(server.url, { query: CREATE, variables: { input: { username: 'alice2', email: EMAILS[1] } } });
    expect(JSON.stringify(taken.body)).toContain('EmailTaken');
    const invalid = await post(server.url, { query: CREATE, variables: { input: { username: 'bob', email: EMAILS[2], extra: EMAILS[3] } } });
    expect(invalid.status).toBe(400);
    const get = await fetch(`${server.url}?query=${encodeURIComponent(`{ users { totalCount } }`)}&email=${EMAILS[3]}`, {
      headers: { authorization: TOKEN, accept: 'application/json' },
    });
    expect(get.status).toBe(200);
    const unusable = await post(server.url, { query: '{ users { totalCount } }' }, { 'x-request-id': 'has spaces' });
    expect(unusable.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const done = () => server.logs.filter((line) => line['msg'] === 'request done');
    await waitUntil(() => done().length >= 5, 'a log line for each request');
    expect(done().map((line) => [line['requestId'], line['status']])).toEqual([
      ['req-logs-1', 200],
      [taken.requestId, 200],
      [invalid.requestId, 400],
      [get.headers.get('x-request-id'), 200],
      [unusable.requestId, 200],
    ]);
    const command = server.logs.find((line) => line['command'] === 'CreateUser' && line['msg'] === 'command done');
    expect(command?.['correlationId']).toBe('req-logs-1');

    const db = new Database(join(dataDir, 'events.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT metadata FROM events').all() as { metadata: string }[];
      expect(rows.map((row) => (JSON.parse(row.metadata) as { correlationId?: string }).correlationId)).toEqual(['req-logs-1']);
    } finally {
      db.close();
    }

    const output = server.output();
    expect(output).toContain('"msg":"command rejected"'); // debug lines were written, so the checks below saw them
    for (const secret of [...EMAILS, TOKEN, 'tok_9f8e7d6c5b4a']) expect(output.toLowerCase()).not.toContain(secret.toLowerCase());
    expect(output).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
  });
});

describe('the logger', () => {
  it('scrubs emails and credentials that reach it inside messages and errors', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const logger = createLogger('trace', destination);
    const error = new Error(`Variable "$input" got invalid value { email: "${EMAILS[0]}" }`);
    logger.error({ err: error, email: EMAILS[1], headers: { authorization: TOKEN } }, `failed for ${EMAILS[2]} with ${TOKEN}`);
    logger.trace({ user: { email: EMAILS[3] } }, 'nested');
    const text = lines.join('');
    expect(lines).toHaveLength(2);
    for (const secret of [...EMAILS, 'tok_9f8e7d6c5b4a']) expect(text).not.toContain(secret);
    expect(text).toContain('[email]');
    expect(text).toContain('Bearer [redacted]');
  });
});
