import { LOG_START } from '../../src/kernel/position.js';
import type { TestServer } from '../support/server.js';
import type { ClientUser, MutationResult } from './documents.js';

let counter = 0;
/** A username and email no other test in this process uses. */
export function freshUser(prefix: string): { username: string; email: string } {
  counter += 1;
  return { username: `${prefix}_${counter}`, email: `${prefix}.${counter}@example.com` };
}

/** The success member of a mutation result, or a failure that shows what came back instead. */
export function succeeded(result: MutationResult | null | undefined): { position: string; user: ClientUser } {
  if (result?.user === undefined || result.position === undefined) throw new Error(`mutation failed: ${JSON.stringify(result)}`);
  return { position: result.position, user: result.user };
}

/**
 * Ground truth for a feed: the positions of every event the store holds, in
 * log order, formatted as clients see them. A feed from "0" must equal this.
 */
export async function storedPositions(server: TestServer): Promise<string[]> {
  const { store } = server.system;
  const events = await store.readAll({ after: LOG_START, limit: 100_000 });
  return events.map((event) => store.formatPosition(event.position));
}

/** Global ids have the form `User:<rawId>`; the raw id is what the event store keys streams by. */
export const isGlobalUserId = (id: string) => /^User:[A-Za-z0-9_-]{1,64}$/.test(id);
