/**
 * The refusals that need the real server: an operation over graphql-ws (a
 * websocket on the server's port), and an unexpected error from a real fault
 * in its SQLite files, which is masked, coded and logged as an error. The
 * client's mistakes over HTTP and SSE are in error-codes.int.test.ts.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { modules } from '../../src/modules.js';
import { loadConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { bearer, signToken } from '../auth/support.js';
import { LOG_START } from '../support/positions.js';
import { errorsOf, expectCoded, logCapture, type ErrorEntry } from './coded.js';

const SECRET = 'error-codes-secret-of-at-least-32-chars';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';

const dataDir = mkdtempSync(join(tmpdir(), 'cqrs-graphql-codes-'));
const log = logCapture();
const logLines = log.lines;
let server: RunningServer;
let url: string;

beforeAll(async () => {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET });
  server = await startServer(config, { logger: pino({ level: 'debug' }, log.sink), modules });
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('every refusal has a code', () => {
  it('an operation over graphql-ws that does not parse: GRAPHQL_PARSE_FAILED', async () => {
    const token = await signToken(new TextEncoder().encode(SECRET), 'ws-user');
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: bearer(token) },
    });
    try {
      const errors = await new Promise<ErrorEntry[]>((resolve, reject) => {
        client.subscribe(
          { query: 'subscription { userEvents {' },
          { next: () => reject(new Error('a result for a document that does not parse')), error: (e) => resolve(e as ErrorEntry[]), complete: () => reject(new Error('completed')) },
        );
      });
      expectCoded(errors, 'GRAPHQL_PARSE_FAILED');
    } finally {
      await client.dispose();
    }
  });

  it('an unexpected error (the event log locked by another process): INTERNAL_SERVER_ERROR, masked and logged as an error', async () => {
    const token = await signToken(new TextEncoder().encode(SECRET), 'locked-user');
    const other = new Database(join(dataDir, 'events.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      const logged = logLines.length;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE, authorization: bearer(token) },
        body: JSON.stringify({ query: 'mutation { createUser(input: { username: "locked", email: "locked@example.com" }) { __typename } }' }),
      });
      expect(response.status).toBe(200);
      const errors = await errorsOf(response);
      expectCoded(errors, 'INTERNAL_SERVER_ERROR');
      expect(errors[0]?.message).toBe('Unexpected error.');
      expect(logLines.slice(logged).some((line) => line['level'] === 50)).toBe(true);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('wrote nothing for either', async () => {
    const events = await server.system.store.readAll({ after: LOG_START, limit: 10 });
    expect(events).toEqual([]);
  });
});
