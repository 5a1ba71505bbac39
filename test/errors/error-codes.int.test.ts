/**
 * Every kind of refusal a client can cause, through the app in process
 * (`app.fetch`), over plain HTTP and SSE: each answer is JSON (or an SSE
 * event) whose every `errors[]` entry has a string `extensions.code` from
 * ERROR_CODES, with the status the README's error-code table gives. A
 * client's mistake is never a 5xx, is never logged above debug (the one info
 * line per request aside), and writes nothing. graphql-ws and a store fault
 * need the real server: error-codes.e2e.test.ts.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import type { ErrorCode } from '../../src/server/error-codes.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';
import { LOG_START } from '../support/positions.js';
import { errorsOf, expectCoded, logCapture } from './coded.js';

const SECRET = 'error-codes-secret-of-at-least-32-chars';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const MAX_BODY_BYTES = 8192;

type Case = Readonly<{
  name: string;
  status: number;
  code: ErrorCode;
  /** `app.fetch` may answer synchronously. */
  request: () => Response | Promise<Response>;
}>;

const log = logCapture();
const logLines = log.lines;
let api: InProcessApp;

beforeAll(async () => {
  api = await createInProcessApp({
    env: { AUTH_JWT_SECRET: SECRET, MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
    logger: pino({ level: 'debug' }, log.sink),
  });
});

afterAll(async () => {
  await api?.close();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  api.fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE, ...headers }, body });
const postQuery = (query: string, variables?: unknown, headers: Record<string, string> = {}) => post(JSON.stringify({ query, variables }), headers);
const get = (search: string, headers: Record<string, string> = {}) => api.fetch(`${api.url}?${search}`, { headers: { accept: GRAPHQL_RESPONSE, ...headers } });
const form = (body: string) =>
  api.fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: GRAPHQL_RESPONSE, [CSRF_HEADER]: '1' }, body });
const q = (query: string) => `query=${encodeURIComponent(query)}`;

const aliases = (count: number, field: string) => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');
/** Valid, and past the default MAX_DEPTH of 8: graphql-armor counts each inline fragment as a level. */
const tooDeep = `{ users { edges { node { ${'... on User { '.repeat(5)}id${' }'.repeat(5)} } } } }`;

/** Refusals a client causes: answered 4xx (or 200 with `data` for a field error), never logged as a server problem. */
const clientMistakes: readonly Case[] = [
  // The request itself
  { name: 'GET with a cookie and no CSRF header', status: 403, code: 'CSRF_PREVENTED', request: () => get(q('{ __typename }'), { cookie: 'session=1' }) },
  {
    name: 'form POST without the CSRF header',
    status: 403,
    code: 'CSRF_PREVENTED',
    request: () => api.fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: q('{ __typename }') }),
  },
  { name: 'body over MAX_BODY_BYTES', status: 413, code: 'REQUEST_ENTITY_TOO_LARGE', request: () => postQuery(`{ __typename }${' '.repeat(MAX_BODY_BYTES)}`) },
  { name: 'PUT', status: 405, code: 'BAD_REQUEST', request: () => api.fetch(api.url, { method: 'PUT', headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE }, body: '{}' }) },
  {
    name: 'mutation by GET',
    status: 405,
    code: 'BAD_REQUEST',
    request: () => get(q('mutation { createUser(input: { username: "viaget", email: "g@example.com" }) { __typename } }')),
  },
  {
    name: 'POST as text/plain',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    request: () => api.fetch(api.url, { method: 'POST', headers: { 'content-type': 'text/plain', [CSRF_HEADER]: '1' }, body: '{ __typename }' }),
  },
  {
    name: 'POST with no content type',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    request: () => api.fetch(api.url, { method: 'POST', headers: { accept: GRAPHQL_RESPONSE, [CSRF_HEADER]: '1' } }),
  },
  { name: 'Accept that allows no JSON', status: 406, code: 'NOT_ACCEPTABLE', request: () => postQuery('{ __typename }', undefined, { accept: 'image/png' }) },
  { name: 'subscription over a plain POST', status: 406, code: 'NOT_ACCEPTABLE', request: () => postQuery('subscription { userEvents { userId } }') },
  { name: 'body that is not JSON', status: 400, code: 'BAD_REQUEST', request: () => post('{"query": ') },
  { name: 'no query', status: 400, code: 'BAD_REQUEST', request: () => post('{}') },
  { name: 'GET variables that are not JSON', status: 400, code: 'BAD_REQUEST', request: () => get(`${q('{ __typename }')}&variables=%7Bnope`) },
  { name: 'GET extensions that are not JSON', status: 400, code: 'BAD_REQUEST', request: () => get(`${q('{ __typename }')}&extensions=nope`) },
  { name: 'GET variables that are JSON but not an object', status: 400, code: 'BAD_REQUEST', request: () => get(`${q('{ __typename }')}&variables=42`) },
  { name: 'form POST variables that are not JSON', status: 400, code: 'BAD_REQUEST', request: () => form(`${q('{ __typename }')}&variables=%7B`) },
  { name: 'form POST extensions that are not JSON', status: 400, code: 'BAD_REQUEST', request: () => form(`${q('{ __typename }')}&extensions=%5B`) },
  {
    name: 'multipart POST without "operations"',
    status: 400,
    code: 'BAD_REQUEST',
    request: () => {
      const body = new FormData();
      body.set('query', '{ __typename }');
      return api.fetch(api.url, { method: 'POST', headers: { accept: GRAPHQL_RESPONSE, [CSRF_HEADER]: '1' }, body });
    },
  },
  // The operation
  { name: 'syntax error', status: 400, code: 'GRAPHQL_PARSE_FAILED', request: () => postQuery('{ users {') },
  { name: 'unknown field', status: 400, code: 'GRAPHQL_VALIDATION_FAILED', request: () => postQuery('{ nope }') },
  { name: 'unknown operationName', status: 400, code: 'OPERATION_RESOLUTION_FAILURE', request: () => post(JSON.stringify({ query: '{ __typename }', operationName: 'Other' })) },
  { name: 'required variable missing', status: 400, code: 'BAD_USER_INPUT', request: () => postQuery('query ($id: ID!) { user(id: $id) { id } }', {}) },
  { name: 'variable of the wrong type', status: 400, code: 'BAD_USER_INPUT', request: () => postQuery('query ($n: Int) { users(first: $n) { totalCount } }', { n: 'ten' }) },
  { name: 'page size over 100 (a field error, with data)', status: 200, code: 'BAD_USER_INPUT', request: () => postQuery('{ users(first: 1000) { totalCount } }') },
  { name: 'selection too deep', status: 400, code: 'MAX_DEPTH_EXCEEDED', request: () => postQuery(tooDeep) },
  { name: 'too many tokens', status: 400, code: 'MAX_TOKENS_EXCEEDED', request: () => postQuery(`{ ${'a '.repeat(2100)}}`) },
  { name: 'too many aliases', status: 400, code: 'MAX_ALIASES_EXCEEDED', request: () => postQuery(`{ ${aliases(101, 'user(id: "u") { id }')} }`) },
  {
    name: 'too costly',
    status: 400,
    code: 'MAX_COST_EXCEEDED',
    request: () => postQuery(`{ ${aliases(3, 'users(first: 100) { totalCount edges { cursor node { id username email version createdAt updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }')} }`),
  },
  { name: 'too many directives', status: 400, code: 'MAX_DIRECTIVES_EXCEEDED', request: () => postQuery(`{ ${'__typename @include(if: true) '.repeat(21)}}`) },
  // Who asks
  { name: 'a token that is not valid', status: 401, code: 'UNAUTHENTICATED', request: () => postQuery('{ __typename }', undefined, { authorization: 'Bearer not-a-jwt' }) },
  { name: 'the admins’ audit feed without an admin’s token (a field error)', status: 200, code: 'FORBIDDEN', request: () => postQuery('{ events { edges { cursor } } }') },
  {
    // Over SSE a request error is a `next` event on a 200 stream, as graphql-sse expects.
    name: 'a GET subscription (SSE) with a bad variable',
    status: 200,
    code: 'BAD_USER_INPUT',
    request: () => get(`${q('subscription ($after: String) { userEvents(after: $after) { userId } }')}&variables=${encodeURIComponent('{"after": 5}')}`, { accept: 'text/event-stream' }),
  },
];

describe('every refusal has a code', () => {
  it.each(clientMistakes)('$name: $status $code, logged at most at debug', async ({ status, code, request }) => {
    const logged = logLines.length;
    const response = await request();
    expect(response.status).toBe(status);
    expectCoded(await errorsOf(response), code);
    // The request's own "request done" line is info; nothing about it may be louder, nor an error with a stack.
    const lines = logLines.slice(logged);
    expect(lines.filter((line) => (line['level'] as number) >= 40)).toEqual([]);
    expect(lines.filter((line) => line['err'] !== undefined && (line['level'] as number) > 20)).toEqual([]);
  });

  it('wrote nothing for any refusal', async () => {
    const events = await api.system.store.readAll({ after: LOG_START, limit: 10 });
    expect(events).toEqual([]);
  });
});
