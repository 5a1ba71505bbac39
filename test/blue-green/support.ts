import { gql } from '../support/server.js';
import type { ServerProcess } from '../support/process.js';

/** The users projection as /health shows it. */
export type UsersHealth = {
  leader: boolean;
  version: number | null;
  lag: number;
  build: { state: string; applied: number; total: number; version: number } | null;
};

export const usersHealth = async (url: string): Promise<UsersHealth> => {
  const body = (await (await fetch(url.replace(/\/graphql$/, '/health'))).json()) as { projections: (UsersHealth & { name: string })[] };
  return body.projections.find((p) => p.name === 'users')!;
};

export const totalCount = async (url: string): Promise<number> =>
  (await gql<{ users: { totalCount: number } }>(url, '{ users(first: 1) { totalCount } }')).body.data!.users.totalCount;

export async function createUser(url: string, id: string): Promise<void> {
  const { body } = await gql<{ createUser: { __typename: string } }>(
    url,
    `mutation { createUser(input: { id: "${id}", username: "${id}", email: "${id}@example.com" }) { __typename } }`,
  );
  if (body.data?.createUser.__typename !== 'CreateUserSuccess') throw new Error(`createUser ${id}: ${JSON.stringify(body)}`);
}

export async function renameUser(url: string, id: string): Promise<void> {
  const { body } = await gql<{ updateUser: { __typename: string } }>(url, `mutation { updateUser(input: { id: "${id}", username: "${id}_r" }) { __typename } }`);
  if (body.data?.updateUser.__typename !== 'UpdateUserSuccess') throw new Error(`updateUser ${id}: ${JSON.stringify(body)}`);
}

/** `count` users, each created then renamed, ten at a time. */
export async function seedUsers(url: string, count: number, prefix = 'seed'): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    const ids = Array.from({ length: Math.min(10, count - i) }, (_, j) => `${prefix}${i + j}`);
    await Promise.all(ids.map((id) => createUser(url, id)));
    await Promise.all(ids.map((id) => renameUser(url, id)));
  }
}

/**
 * Mutations through `writeUrl` and reads through `readUrl` until `stop`:
 * every totalCount read is kept, to show it never fell below the live count
 * nor went down (a half-built read model would show fewer users).
 */
export function startLoad(writeUrl: string, readUrl: string, prefix: string) {
  let running = true;
  let created = 0;
  const counts: number[] = [];
  const writer = (async () => {
    while (running) await createUser(writeUrl, `${prefix}${created++}`);
  })();
  const reader = (async () => {
    while (running) counts.push(await totalCount(readUrl));
  })();
  return {
    counts,
    created: () => created,
    stop: async () => {
      running = false;
      await Promise.all([writer, reader]);
    },
  };
}

export const VERSIONED_SERVER = ['--import', 'tsx', 'test/support/versioned-server.ts'];

export const logged = (server: ServerProcess, text: string) => server.logs.some((line) => String(line['msg']).includes(text));
