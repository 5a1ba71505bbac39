import { gql } from '../support/server.js';

/** One mutation with a known input and its own idempotency key, so its effect can be found in the store. */
export type Mutation =
  | Readonly<{ kind: 'create'; key: string; userId: string; username: string; email: string }>
  | Readonly<{ kind: 'update'; key: string; userId: string; username: string }>;

export type Outcome =
  /** The client got the success payload: the write must survive. */
  | Readonly<{ mutation: Mutation; status: 'acknowledged'; position: string; version: number }>
  /** No answer (the connection failed): the write may or may not have happened, but not in part. */
  | Readonly<{ mutation: Mutation; status: 'unanswered'; error: string }>
  /** An answer that is not a success: never expected in these tests. */
  | Readonly<{ mutation: Mutation; status: 'answered'; body: unknown }>;

type Payload = { __typename: string; position?: string; user?: { version: number } };

const CREATE = `mutation($input: CreateUserInput!) {
  createUser(input: $input) { __typename ... on CreateUserSuccess { position user { version } } ... on Error { message } }
}`;
const UPDATE = `mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { __typename ... on UpdateUserSuccess { position user { version } } ... on Error { message } }
}`;

/** Sends one mutation and classifies what came back. */
export async function send(url: string, mutation: Mutation): Promise<Outcome> {
  const { key: idempotencyKey } = mutation;
  const [query, input, field] =
    mutation.kind === 'create'
      ? [CREATE, { id: mutation.userId, username: mutation.username, email: mutation.email, idempotencyKey }, 'createUser']
      : [UPDATE, { id: mutation.userId, username: mutation.username, idempotencyKey }, 'updateUser'];
  let response: Awaited<ReturnType<typeof gql<Record<string, Payload>>>>;
  try {
    response = await gql<Record<string, Payload>>(url, query, { input });
  } catch (error) {
    return { mutation, status: 'unanswered', error: error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error) };
  }
  const payload = response.body.data?.[field];
  if (response.status === 200 && payload?.__typename.endsWith('Success') && payload.position && payload.user) {
    return { mutation, status: 'acknowledged', position: payload.position, version: payload.user.version };
  }
  return { mutation, status: 'answered', body: response };
}

export type Load = Readonly<{
  /** Every mutation sent so far, with its outcome once known, in the order each client sent them. */
  done: Promise<Outcome[]>;
  acknowledged: () => number;
}>;

/**
 * `clients` loops, each creating a user and then renaming it three times,
 * over and over, with known inputs. A loop ends at its first mutation that
 * is not acknowledged (the server went away), so it never sends an update
 * for a user whose creation is in doubt.
 */
export function startLoad(url: string, options: { clients: number; prefix: string; onAcknowledged?: (count: number) => void }): Load {
  let acknowledged = 0;
  const loop = async (client: number): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (let n = 0; ; n++) {
      const userId = `${options.prefix}-c${client}-u${n}`;
      const sequence: Mutation[] = [
        { kind: 'create', key: `create-${userId}`, userId, username: `${options.prefix}c${client}u${n}`, email: `${userId}@example.com` },
        ...[1, 2, 3].map((k): Mutation => ({ kind: 'update', key: `update-${userId}-${k}`, userId, username: `${options.prefix}c${client}u${n}v${k}` })),
      ];
      for (const mutation of sequence) {
        const outcome = await send(url, mutation);
        outcomes.push(outcome);
        if (outcome.status !== 'acknowledged') return outcomes;
        acknowledged += 1;
        options.onAcknowledged?.(acknowledged);
      }
    }
  };
  return {
    done: Promise.all(Array.from({ length: options.clients }, (_, client) => loop(client))).then((all) => all.flat()),
    acknowledged: () => acknowledged,
  };
}
