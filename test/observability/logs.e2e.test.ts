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

describe('logs with authentication on, at LOG_LEVEL=trace', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-logs-auth-'));
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer(dataDir, { LOG_LEVEL: 'trace', AUTH_JWT_SECRET: 'a-secret-of-at-least-32-characters-for-logs' });
  });
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keep messages as written: words like "token" are not taken for credentials', async () => {
    const garbage = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: 'garbage',
    });
    expect(garbage.status).toBe(400);
    const answer = JSON.stringify(await garbage.json());
    expect(answer).toMatch(/Unexpected token/);
    const refused = await post(server.url, { query: '{ users { totalCount } }' });
    expect(refused.status).toBe(401);
    await waitUntil(() => server.logs.filter((line) => line['msg'] === 'request done').length >= 2, 'a log line for each request');

    const messages = server.logs.map((line) => String(line['msg']));
    expect(messages).toContain('authentication on: mutations need a bearer token');
    expect(server.output()).not.toContain('[redacted]');
    for (const line of server.output().split('\n').filter((text) => text.includes('is not valid JSON'))) expect(line).toContain('Unexpected token');
    for (const secret of [TOKEN, 'tok_9f8e7d6c5b4a', 'a-secret-of-at-least-32-characters-for-logs']) expect(server.output()).not.toContain(secret);
  });
});

describe('the logger', () => {
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    return { logger: createLogger('trace', destination), entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), text: () => lines.join('') };
  };

  it('redacts the fields that hold secrets: headers, tokens, connection strings, emails', () => {
    const { logger, entries, text } = capture();
    logger.info(
      {
        headers: { authorization: TOKEN, cookie: 'session=abc123cookie', 'proxy-authorization': 'Basic dXNlcjpwYXNz', accept: 'application/json' },
        req: { headers: { authorization: TOKEN, 'set-cookie': 'id=setcookie42' } },
        token: 'tok_9f8e7d6c5b4a',
        DATABASE_URL: 'postgres://app:pgpass77@db.internal:5432/cqrs',
        storage: { connectionString: 'postgres://app:pgpass77@db.internal/cqrs' },
        email: EMAILS[0],
        user: { email: EMAILS[1], username: 'alice' },
        connectionParams: { authorization: TOKEN },
      },
      'request with secrets',
    );
    const [entry] = entries();
    for (const secret of ['tok_9f8e7d6c5b4a', 'abc123cookie', 'dXNlcjpwYXNz', 'setcookie42', 'pgpass77', EMAILS[0]!, EMAILS[1]!]) expect(text()).not.toContain(secret);
    expect(entry).toMatchObject({
      msg: 'request with secrets',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'proxy-authorization': '[redacted]', accept: 'application/json' },
      req: { headers: { authorization: '[redacted]', 'set-cookie': '[redacted]' } },
      token: '[redacted]',
      DATABASE_URL: '[redacted]',
      storage: { connectionString: '[redacted]' },
      email: '[redacted]',
      user: { email: '[redacted]', username: 'alice' },
      connectionParams: { authorization: '[redacted]' },
    });
  });

  it('leaves messages and error messages as written', () => {
    const { logger, entries } = capture();
    logger.info('authentication on: mutations need a bearer token');
    logger.error({ err: new SyntaxError('Unexpected token g, "garbage" is not valid JSON') }, 'Token bucket empty');
    const [info, error] = entries();
    expect(info?.['msg']).toBe('authentication on: mutations need a bearer token');
    expect(error?.['msg']).toBe('Token bucket empty');
    expect((error?.['err'] as { message: string }).message).toBe('Unexpected token g, "garbage" is not valid JSON');
  });
});
