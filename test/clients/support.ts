import { readFileSync } from 'node:fs';
import { buildSchema, isAbstractType, print, type DocumentNode, type GraphQLSchema } from 'graphql';
import WebSocket from 'ws';
import { LOG_START } from '../../src/kernel/position.js';
import { gql, type TestServer } from '../support/server.js';
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

/** A `ws` WebSocket class that remembers its sockets, so a test can drop one the way a network would. */
export function trackedWebSocket() {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  return { WebSocketImpl: TrackedWebSocket, sockets };
}

/** A write by someone else: a plain POST, not through the client under test or its cache. */
export async function otherClient<T>(server: TestServer, document: DocumentNode, variables: Record<string, unknown>): Promise<T> {
  const { status, body } = await gql<T>(server.url, print(document), variables);
  if (status !== 200 || body.errors?.length || body.data == null) throw new Error(`HTTP ${status}: ${JSON.stringify(body)}`);
  return body.data;
}

/** The schema the clients are built against: schema.graphql, the checked-in contract. */
export const clientSchema = (): GraphQLSchema => buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

/** Apollo's `possibleTypes` (which types match `... on Error`, `... on UserEvent`), from the contract. */
export function possibleTypes(schema: GraphQLSchema = clientSchema()): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type)) result[type.name] = schema.getPossibleTypes(type).map((member) => member.name);
  }
  return result;
}
