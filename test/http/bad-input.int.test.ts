/**
 * Bad requests, through the app in process (`app.fetch`): each gets a clear
 * error with the status the GraphQL-over-HTTP spec gives, never a 500, never
 * a partial write, and the app keeps serving afterwards. The unexpected error
 * (a SQLite log locked by another process) needs the real server and its
 * files: bad-input.e2e.test.ts.
 *
 * Status rules asserted (GraphQL over HTTP, draft):
 * - Accept application/graphql-response+json: a request that is not
 *   well-formed, a document that does not parse or validate, variables that
 *   do not coerce, an operation that cannot be determined: 400, errors only, no `data`.
 * - Accept application/json: the spec recommends 200 for GraphQL request
 *   errors and 400 for requests that are not well-formed, and allows 4xx for
 *   both; Yoga answers either 200 or 400, so 200 or 400 is asserted, never 5xx.
 * - Input rules (input-rules.ts) are not GraphQL errors: they come back as a
 *   `ValidationError` member of the mutation's result union, with status 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../src/server/app.js';
import { LOG_START } from '../support/positions.js';
import { createInProcessApp, type InProcessApp } from '../support/in-process.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const JSON_TYPE = 'application/json';

let api: InProcessApp;
/** Usernames this file creates on purpose; nothing else may reach the store. */
const created: string[] = [];
/** Case -> observed status and first error message, printed once for the report. */
const observed: string[] = [];

beforeAll(async () => {
  api = await createInProcessApp();
});

afterAll(async () => {
  console.info(`bad-input cases (status | message):\n${observed.join('\n')}`);
  await api?.close();
});

type GraphQLErrorBody = { message: string; extensions?: Record<string, unknown> };
type Answer = {
  status: number;
  contentType: string | null;
  headers: Headers;
  text: string;
  body: { data?: unknown; errors?: GraphQLErrorBody[] } | undefined;
};

async function send(init: {
  method?: string;
  url?: string;
  accept?: string;
  contentType?: string | null;
  body?: string;
  headers?: Record<string, string>;
}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.accept) headers.accept = init.accept;
  if (init.contentType !== null) headers['content-type'] = init.contentType ?? JSON_TYPE;
  const response = await api.fetch(init.url ?? api.url, {
    method: init.method ?? 'POST',
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let body: Answer['body'];
  try {
    body = text ? (JSON.parse(text) as Answer['body']) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text, body };
}

function record(name: string, answer: Answer) {
  const message = answer.body?.errors?.[0]?.message ?? (answer.text ? answer.text.slice(0, 120) : '(empty body)');
  observed.push(`  ${name} | ${answer.status} | ${message}`);
}

/** The error shape every failed request must have: JSON, errors with messages, no data. */
function expectErrorsOnly(answer: Answer, accept: string, message: string | RegExp, code?: string) {
  expect(answer.contentType).toBe(`${accept}; charset=utf-8`);
  expect(answer.body).toBeDefined();
  expect(answer.body).not.toHaveProperty('data');
  const [first] = answer.body?.errors ?? [];
  expect(first?.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  if (code) expect(first?.extensions?.code).toBe(code);
  // Never a stack trace or an internal error code in a client error.
  expect(answer.text).not.toMatch(/INTERNAL_SERVER_ERROR|Unexpected error|stack|\bat .*\.(ts|js):\d+/);
}

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateUserInput!) {
    createUser(input: $input) {
      __typename
      ... on CreateUserSuccess { user { id username email version } }
      ... on ValidationError { message fields { field message } }
      ... on Error { message }
    }
  }
`;
const CREATE_WITH_USERNAME = /* GraphQL */ `
  mutation Create($username: String!) {
    createUser(input: { username: $username, email: "variables@example.com" }) { __typename }
  }
`;

type RequestCase = Readonly<{
  name: string;
  body: string;
  message: string | RegExp;
  /** Every error has one (test/errors/error-codes.int.test.ts walks them all). */
  code: string;
}>;

const json = (value: unknown) => JSON.stringify(value);

/** Each is sent with both Accept headers. */
const requestCases: readonly RequestCase[] = [
  {
    name: 'malformed JSON body',
    body: '{"query": "{ __typename }", ',
    message: 'POST body sent invalid JSON.',
    code: 'BAD_REQUEST',
  },
  { name: 'empty body (content-type application/json)', body: '', message: 'POST body sent invalid JSON.', code: 'BAD_REQUEST' },
  { name: 'body is a JSON string', body: json('{ __typename }'), message: 'POST body is expected to be object but received string', code: 'BAD_REQUEST' },
  { name: 'body is JSON null', body: 'null', message: 'POST body is expected to be object but received null', code: 'BAD_REQUEST' },
  { name: 'body is a JSON number', body: '42', message: 'POST body is expected to be object but received number', code: 'BAD_REQUEST' },
  // A non-empty array is a batch (test/http/batching.int.test.ts).
  { name: 'body is an empty JSON array (batch)', body: json([]), message: 'A batch must hold at least one operation.', code: 'BATCH_EMPTY' },
  { name: 'missing query', body: json({ variables: {} }), message: 'Must provide query string.', code: 'BAD_REQUEST' },
  {
    name: 'query is not a string',
    body: json({ query: 42 }),
    message: 'Expected "query" param to be a string, but given number.',
    code: 'BAD_REQUEST',
  },
  {
    name: 'variables is not an object',
    body: json({ query: '{ __typename }', variables: '{"a":1}' }),
    message: 'Expected "variables" param to be empty or an object, but given string.',
    code: 'BAD_REQUEST',
  },
  {
    name: 'GraphQL syntax error',
    body: json({ query: '{ users { totalCount }' }),
    message: /^Syntax Error: Expected Name, found <EOF>\./,
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: 'unknown field',
    body: json({ query: '{ zzzUnknown }' }),
    message: 'Cannot query field "zzzUnknown" on type "Query".',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'unknown argument',
    body: json({ query: '{ users(foo: 1) { totalCount } }' }),
    message: 'Unknown argument "foo" on field "Query.users".',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'unknown input field in CreateUserInput (literal)',
    body: json({ query: 'mutation { createUser(input: { username: "nick", email: "nick@example.com", nickname: "n" }) { __typename } }' }),
    message: 'Field "nickname" is not defined by type "CreateUserInput". Did you mean "username"?',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'unknown input field in CreateUserInput (variables)',
    body: json({ query: CREATE, variables: { input: { username: 'nick', email: 'nick@example.com', nickname: 'n' } } }),
    message: /^Variable "\$input" got invalid value .*; Field "nickname" is not defined by type "CreateUserInput"\. Did you mean "username"\?$/,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'wrong variable type (username: 123)',
    body: json({ query: CREATE_WITH_USERNAME, variables: { username: 123 } }),
    message: 'Variable "$username" got invalid value 123; String cannot represent a non string value: 123',
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'missing required variable',
    body: json({ query: CREATE_WITH_USERNAME, variables: {} }),
    message: 'Variable "$username" of required type "String!" was not provided.',
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'null for a non-null variable',
    body: json({ query: CREATE_WITH_USERNAME, variables: { username: null } }),
    message: 'Variable "$username" of non-null type "String!" must not be null.',
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'null for a non-null input field (literal)',
    body: json({ query: 'mutation { createUser(input: { username: null, email: "n@example.com" }) { __typename } }' }),
    message: 'Expected value of type "String!", found null.',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'null for a non-null input field (variables)',
    body: json({ query: CREATE, variables: { input: { username: 'nulled', email: null } } }),
    message: 'Variable "$input" got invalid value null at "input.email"; Expected non-nullable type "String!" not to be null.',
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'operationName that does not exist',
    body: json({ query: 'query A { __typename } query B { __typename }', operationName: 'C' }),
    message: 'Could not determine what operation to execute.',
    code: 'OPERATION_RESOLUTION_FAILURE',
  },
];

describe('requests the server cannot execute', () => {
  describe.each(requestCases)('$name', ({ name, body, message, code }) => {
    it(`Accept ${GRAPHQL_RESPONSE}: 400 with the error, no data`, async () => {
      const answer = await send({ accept: GRAPHQL_RESPONSE, body });
      record(`${name} [graphql-response+json]`, answer);
      expect(answer.status).toBe(400);
      expectErrorsOnly(answer, GRAPHQL_RESPONSE, message, code);
    });

    it(`Accept ${JSON_TYPE}: 200 or 400 with the error, no data`, async () => {
      const answer = await send({ accept: JSON_TYPE, body });
      record(`${name} [json]`, answer);
      expect([200, 400]).toContain(answer.status);
      expectErrorsOnly(answer, JSON_TYPE, message, code);
    });
  });
});

describe('requests refused at the HTTP level', () => {
  // Requests a browser could send cross-site without a preflight (GET, text/plain, no
  // content-type) need yoga's CSRF header (test/http/security.int.test.ts); these carry
  // it, so what is checked here is the rule after that one.
  const csrf = { [CSRF_HEADER]: '1' };

  it('mutation over GET: 405, Allow: POST, and nothing is written', async () => {
    const query = 'mutation { createUser(input: { username: "viaget", email: "viaget@example.com" }) { __typename } }';
    const answer = await send({ method: 'GET', url: `${api.url}?query=${encodeURIComponent(query)}`, accept: GRAPHQL_RESPONSE, contentType: null, headers: csrf });
    record('mutation over GET', answer);
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expectErrorsOnly(answer, GRAPHQL_RESPONSE, 'Can only perform a mutation operation from a POST request.', 'BAD_REQUEST');
  });

  it('a query over GET still works (the 405 is about mutations only)', async () => {
    const answer = await send({ method: 'GET', url: `${api.url}?query=${encodeURIComponent('{ __typename }')}`, accept: GRAPHQL_RESPONSE, contentType: null, headers: csrf });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { __typename: 'Query' }, extensions: { position: expect.any(String) } });
  });

  it('PUT: 405 with Allow: GET, POST', async () => {
    const answer = await send({ method: 'PUT', accept: GRAPHQL_RESPONSE, body: json({ query: '{ __typename }' }) });
    record('PUT', answer);
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, POST');
    expectErrorsOnly(answer, GRAPHQL_RESPONSE, 'GraphQL only supports GET and POST requests.', 'BAD_REQUEST');
  });

  it.each([GRAPHQL_RESPONSE, JSON_TYPE])('content-type text/plain (Accept %s): 415 Unsupported Media Type, with a JSON body', async (accept) => {
    const answer = await send({ accept, contentType: 'text/plain', body: json({ query: '{ __typename }' }), headers: csrf });
    record(`content-type text/plain [${accept}]`, answer);
    expect(answer.status).toBe(415);
    expectErrorsOnly(answer, accept, /application\/json/, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('POST with no content-type and no body: 415 with a JSON body', async () => {
    const answer = await send({ accept: GRAPHQL_RESPONSE, contentType: null, headers: csrf });
    record('no content-type, empty body', answer);
    expect(answer.status).toBe(415);
    expectErrorsOnly(answer, GRAPHQL_RESPONSE, /application\/json/, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('subscription over a plain POST (no text/event-stream in Accept): 406 with a JSON body, not 500', async () => {
    const answer = await send({ accept: GRAPHQL_RESPONSE, body: json({ query: 'subscription { userEvents { userId } }' }) });
    record('subscription over plain POST', answer);
    expect(answer.status).toBe(406);
    expect(answer.headers.get('accept')).toContain('text/event-stream');
    expectErrorsOnly(answer, GRAPHQL_RESPONSE, /Accept/, 'NOT_ACCEPTABLE');
  });
});

describe('variables and extensions that are not JSON, by GET and by form POST', () => {
  // Yoga let JSON.parse throw here: 500 "Unexpected error." and two error-level stack traces per request.
  const cases = [
    ['variables', '{"username": '],
    ['variables', 'not json'],
    ['extensions', '{persistedQuery'],
    ['extensions', '['],
  ] as const;
  const byGet = (search: string, accept: string) =>
    send({ method: 'GET', url: `${api.url}?${search}`, accept, contentType: null });
  const byForm = (search: string, accept: string) =>
    send({ accept, contentType: 'application/x-www-form-urlencoded', body: search, headers: { [CSRF_HEADER]: '1' } });

  describe.each([
    ['GET', byGet],
    ['form POST', byForm],
  ] as const)('%s', (transport, sendParams) => {
    it.each(cases.flatMap(([name, value]) => [GRAPHQL_RESPONSE, JSON_TYPE].map((accept) => [name, value, accept] as const)))(
      '%s=%j (Accept %s): 400 BAD_REQUEST naming the parameter, nothing run or written',
      async (name, value, accept) => {
        const before = await api.system.store.headPosition();
        const search = new URLSearchParams({ query: 'query One($id: ID!) { user(id: $id) { id } }', [name]: value }).toString();
        const answer = await sendParams(search, accept);
        record(`${transport} ${name}=${value} [${accept}]`, answer);
        expect(answer.status).toBe(400);
        expectErrorsOnly(answer, accept, `The "${name}" parameter is not valid JSON.`, 'BAD_REQUEST');
        expect(await api.system.store.headPosition()).toBe(before);
      },
    );

    it('still serves well-formed variables', async () => {
      const search = new URLSearchParams({ query: 'query One($id: ID!) { user(id: $id) { id } }', variables: json({ id: 'nobody' }) }).toString();
      const answer = await sendParams(search, GRAPHQL_RESPONSE);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { user: null }, extensions: { position: expect.any(String) } });
    });
  });
});

type CreateResult = {
  __typename: string;
  user?: { id: string; username: string; email: string; version: number };
  message?: string;
  fields?: { field: string; message: string }[];
};

async function createUser(input: Record<string, unknown>) {
  const { status, body } = await api.gql<{ createUser: CreateResult }>(CREATE, { input });
  expect(body.errors).toBeUndefined();
  return { status, result: body.data?.createUser };
}

async function expectValidationError(name: string, input: Record<string, unknown>, field: string, message: string) {
  const { status, result } = await createUser(input);
  observed.push(`  ${name} | ${status} | ${result?.__typename}: ${field} ${result?.fields?.find((f) => f.field === field)?.message}`);
  expect(status).toBe(200);
  expect(result).toEqual({ __typename: 'ValidationError', message: 'The input is not valid', fields: [{ field, message }] });
}

const USERNAME_CHARS = 'may contain only letters, digits, "_", "." and "-"';
const INVALID_EMAIL = 'must be a valid email address';

describe('input the rules refuse: a ValidationError in the result union, nothing written', () => {
  it('a 512 KiB username (half the default body limit; larger bodies get 413, see limits.e2e.test.ts)', async () => {
    await expectValidationError('512 KiB username', { username: 'a'.repeat(512 * 1024), email: 'huge@example.com' }, 'username', 'must be at most 32 characters');
  });

  it.each([
    ['NUL', 'ab\u0000cd'],
    ['newline', 'ab\ncd'],
    ['tab inside', 'ab\tcd'],
    ['escape', 'ab\u001bcd'],
    ['DEL', 'ab\u007fcd'],
    ['zero-width space', 'ad\u200bmin'],
    ['right-to-left override', '\u202enimda'],
  ])('control / invisible character in username: %s', async (label, username) => {
    await expectValidationError(`username with ${label}`, { username, email: 'control@example.com' }, 'username', USERNAME_CHARS);
  });

  it.each([
    ['accented Latin', 'jösé'],
    ['Cyrillic look-alike of "admin"', '\u0430dmin'],
    ['emoji', 'bob😀'],
    ['CJK', '用户名'],
    ['lone surrogate', 'ab\ud800cd'],
  ])('non-ASCII username: %s', async (label, username) => {
    await expectValidationError(`username ${label}`, { username, email: 'unicode@example.com' }, 'username', USERNAME_CHARS);
  });

  it.each([
    ['control character', 'a\u0000b@example.com'],
    ['non-ASCII local part', 'jösé@example.com'],
    ['lone surrogate', 'x\ud800@example.com'],
    ['no domain dot', 'someone@localhost'],
  ])('email with %s', async (label, email) => {
    await expectValidationError(`email ${label}`, { username: 'mailcheck', email }, 'email', INVALID_EMAIL);
  });

  it('an email of 255 characters', async () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;
    expect(email).toHaveLength(255);
    await expectValidationError('email of 255 chars', { username: 'longmail', email }, 'email', 'must be at most 254 characters');
  });
});

describe('valid input next to the limits is accepted', () => {
  it.each([
    ['plus', 'first.last+tag@example.com'],
    ['plusplus', 'user+a+b@sub.example.org'],
  ])('plus addressing: %s <%s>', async (username, email) => {
    const { status, result } = await createUser({ username, email });
    observed.push(`  plus-addressed email ${email} | ${status} | ${result?.__typename}`);
    expect(status).toBe(200);
    expect(result?.__typename).toBe('CreateUserSuccess');
    expect(result?.user).toMatchObject({ username, email, version: 1 });
    created.push(username);
  });

  it('an email of exactly 254 characters', async () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(email).toHaveLength(254);
    const { result } = await createUser({ username: 'longmail', email });
    expect(result?.__typename).toBe('CreateUserSuccess');
    expect(result?.user?.email).toBe(email);
    created.push('longmail');
  });
});

describe('after all of the above', () => {
  it('holds only the users created on purpose: no partial write from any bad request', async () => {
    const { status, body } = await api.gql<{ users: { totalCount: number; edges: { node: { username: string } }[] } }>(
      '{ users(first: 100) { totalCount edges { node { username } } } }',
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(created).toHaveLength(3);
    expect(body.data?.users.totalCount).toBe(created.length);
    expect(body.data?.users.edges.map((e) => e.node.username).sort()).toEqual([...created].sort());

    // The event log itself, not just the read model: one UserCreated per deliberate user, nothing else.
    const events = await api.system.store.readAll({ after: LOG_START, limit: 1000 });
    expect(events.map((e) => e.type)).toEqual(created.map(() => 'UserCreated'));
  });

  it('still serves a normal query and a normal mutation', async () => {
    const { result } = await createUser({ username: 'afterwards', email: 'afterwards@example.com' });
    expect(result?.__typename).toBe('CreateUserSuccess');
    created.push('afterwards');

    const { status, body } = await api.gql<{ user: { username: string; email: string } | null }>(
      'query One($id: ID!) { user(id: $id) { username email } }',
      { id: result?.user?.id },
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { user: { username: 'afterwards', email: 'afterwards@example.com' } }, extensions: { position: expect.any(String) } });

    const count = await api.gql<{ users: { totalCount: number } }>('{ users { totalCount } }');
    expect(count.body.data?.users.totalCount).toBe(created.length);
  });
});
