/**
 * The GraphQL operations the load generator sends, identical for our server
 * and the baseline, and how each response is checked: a fast wrong answer is
 * counted as an error, not as a result.
 */

export type OperationName = 'createUser' | 'updateUser' | 'user' | 'users' | 'user50' | 'hotUser' | 'hotUsers';

export type OperationParams = Readonly<{
  /** Users u1..uN exist before the run (seeded). */
  seededUsers: number;
  /** Distinguishes the ids and emails this load process creates from any other run's. */
  runId: string;
}>;

export type Request = Readonly<{ query: string; variables?: Record<string, unknown> }>;

type Json = { data?: Record<string, unknown> | null; errors?: unknown[] };

export type Operation = Readonly<{
  /** `worker` is the connection's index, `seq` its request counter. */
  make: (worker: number, seq: number) => Request;
  /** null when the response is the right answer, else what is wrong with it. */
  check: (json: Json) => string | null;
}>;

const CREATE = `mutation Create($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on CreateUserSuccess { position user { id username email version } } }
}`;
const UPDATE = `mutation Update($input: UpdateUserInput!) {
  updateUser(input: $input) { __typename ... on UpdateUserSuccess { position user { id username version } } }
}`;
const USER = `query User($id: ID!) { user(id: $id) { id username email version } }`;
const USERS = `query Users($after: String) {
  users(first: 20, after: $after) { edges { cursor node { id username } } pageInfo { hasNextPage endCursor } }
}`;
const USER50 = `query Fifty(${range(50).map((i) => `$id${i}: ID!`).join(', ')}) {
${range(50).map((i) => `  u${i}: user(id: $id${i}) { id username version }`).join('\n')}
}`;

function range(n: number) {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Keyset cursor of the user created n-th, to seek a random page without walking to it. Cursors are
 * opaque to clients; the bench knows that the server on SQLite wraps `sqlite:N` (the seeded store
 * holds one event per user) and the baseline copies that format.
 */
export const cursorOf = (n: number): string => Buffer.from(`user:sqlite:${n}`).toString('base64url');

const randomUser = (seeded: number) => 1 + Math.floor(Math.random() * seeded);

/** Hot reads (scenario 10): the first this many users (or pages) are read, with a Zipf distribution (s = 1). */
const HOT_USERS = 1000;
const HOT_PAGES = 50;
/** Share of hot-read requests that are writes (an update of a hot user): each drops the cached answers it changes. */
const HOT_WRITE_SHARE = 0.01;

/** A rank in 1..n, rank k drawn with probability ∝ 1/k. */
function zipf(n: number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) cumulative.push((total += 1 / k));
  return () => {
    const target = Math.random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
}

/** Mostly `read`, one request in a hundred an update of a hot user; checked by which it was. */
function hotMix(seededUsers: number, runId: string, read: () => Request, checkRead: Operation['check']): Operation {
  const hotUser = zipf(Math.min(HOT_USERS, seededUsers));
  return {
    make: (worker, seq) =>
      Math.random() < HOT_WRITE_SHARE
        ? { query: UPDATE, variables: { input: { id: `u${hotUser()}`, username: `h${runId}w${worker}n${seq}` } } }
        : read(),
    check: (json) => (json.data && 'updateUser' in json.data ? (errorsOf(json) ?? typename(json, 'updateUser', 'UpdateUserSuccess')) : checkRead(json)),
  };
}

const errorsOf = (json: Json): string | null =>
  json.errors && json.errors.length > 0 ? `errors: ${JSON.stringify(json.errors).slice(0, 200)}` : null;

function typename(json: Json, field: string, expected: string): string | null {
  const value = json.data?.[field] as { __typename?: string } | undefined;
  return value?.__typename === expected ? null : `${field}: ${JSON.stringify(value ?? json).slice(0, 200)}`;
}

export function operation(name: OperationName, params: OperationParams): Operation {
  const { seededUsers, runId } = params;
  switch (name) {
    case 'hotUser': {
      const user = operation('user', params);
      const hot = zipf(Math.min(HOT_USERS, seededUsers));
      return hotMix(seededUsers, runId, () => ({ query: USER, variables: { id: `u${hot()}` } }), user.check);
    }
    case 'hotUsers': {
      const users = operation('users', params);
      const page = zipf(Math.min(HOT_PAGES, Math.floor(seededUsers / 20)));
      return hotMix(seededUsers, runId, () => {
        const k = page();
        return { query: USERS, variables: { after: k === 1 ? null : cursorOf((k - 1) * 20) } };
      }, users.check);
    }
    case 'createUser':
      return {
        make: (worker, seq) => {
          const handle = `b${runId}w${worker}n${seq}`;
          return { query: CREATE, variables: { input: { username: handle, email: `${handle}@example.com` } } };
        },
        check: (json) => errorsOf(json) ?? typename(json, 'createUser', 'CreateUserSuccess'),
      };
    case 'updateUser':
      return {
        // Each connection updates its own users, so commands do not queue on one stream's lock.
        make: (worker, seq) => {
          const user = 1 + ((worker + 32 * seq) % seededUsers);
          return { query: UPDATE, variables: { input: { id: `u${user}`, username: `r${runId}w${worker}n${seq}` } } };
        },
        check: (json) => errorsOf(json) ?? typename(json, 'updateUser', 'UpdateUserSuccess'),
      };
    case 'user':
      return {
        make: () => ({ query: USER, variables: { id: `u${randomUser(seededUsers)}` } }),
        check: (json) => errorsOf(json) ?? ((json.data?.['user'] as { id?: string } | null)?.id ? null : 'user: null'),
      };
    case 'users':
      return {
        // A random page anywhere in the table: a keyset seek, however deep.
        make: () => ({ query: USERS, variables: { after: cursorOf(Math.max(1, randomUser(seededUsers) - 21)) } }),
        check: (json) => {
          const edges = (json.data?.['users'] as { edges?: unknown[] } | undefined)?.edges;
          return errorsOf(json) ?? (edges?.length === 20 ? null : `users: ${edges?.length ?? 'no'} edges`);
        },
      };
    case 'user50':
      return {
        make: () => ({
          query: USER50,
          variables: Object.fromEntries(range(50).map((i) => [`id${i}`, `u${randomUser(seededUsers)}`])),
        }),
        check: (json) => {
          const found = range(50).filter((i) => (json.data?.[`u${i}`] as { id?: string } | null)?.id).length;
          return errorsOf(json) ?? (found === 50 ? null : `user50: ${found} of 50 found`);
        },
      };
  }
}
