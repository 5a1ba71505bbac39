import { createInMemoryAPQStore, useAPQ, type APQStore } from '@graphql-yoga/plugin-apq';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { assertNever } from '../kernel/messages.js';
import type { Config } from './config.js';
import type { TrustedDocuments } from './trusted-documents.js';

/**
 * How the server treats operations sent by id instead of by text:
 * - `automatic`: Apollo's automatic persisted queries. A client sends a
 *   query's SHA-256 first; an unknown hash is answered
 *   `PERSISTED_QUERY_NOT_FOUND`, and the client registers the query by sending
 *   it with its hash. Any operation may still be sent in full.
 * - `trusted`: only the documents of a manifest run, sent by id; anything
 *   else is refused. No registration: it would let any operation in.
 * - `off`: operations are sent in full; a hash alone is answered
 *   `PERSISTED_QUERY_NOT_SUPPORTED`, which tells Apollo's link to stop sending hashes.
 */
export type PersistedOperationsMode =
  | Readonly<{ type: 'automatic'; maxEntries: number }>
  | Readonly<{ type: 'trusted'; documents: TrustedDocuments }>
  | Readonly<{ type: 'off' }>;

export const PERSISTED_OPERATION_CODES = {
  notFound: 'PERSISTED_QUERY_NOT_FOUND',
  notSupported: 'PERSISTED_QUERY_NOT_SUPPORTED',
  notInList: 'PERSISTED_QUERY_NOT_IN_LIST',
  idRequired: 'PERSISTED_QUERY_ID_REQUIRED',
} as const;

const ID_REQUIRED_MESSAGE = 'This server runs trusted documents only: send the id of a document from its manifest, not the document itself.';
const NOT_IN_LIST_MESSAGE = 'No trusted document has this id.';

/**
 * A registered query longer than this still runs but is not remembered, so
 * the store holds at most `maxEntries` times this many characters however
 * large the bodies a client registers.
 */
export const APQ_MAX_QUERY_LENGTH = 10_000;

/** The mode the configuration selects; config.ts already refuses APQ switched on beside a manifest. */
export function persistedOperationsMode(config: Pick<Config, 'AUTOMATIC_PERSISTED_QUERIES' | 'APQ_MAX_ENTRIES' | 'TRUSTED_DOCUMENTS_FILE'>): PersistedOperationsMode {
  if (config.TRUSTED_DOCUMENTS_FILE) return { type: 'trusted', documents: config.TRUSTED_DOCUMENTS_FILE };
  return config.AUTOMATIC_PERSISTED_QUERIES === false ? { type: 'off' } : { type: 'automatic', maxEntries: config.APQ_MAX_ENTRIES };
}

export function usePersistedOperationsMode(mode: PersistedOperationsMode): Plugin {
  switch (mode.type) {
    case 'automatic':
      return useAPQ({ store: boundedStore(mode.maxEntries) });
    case 'trusted':
      return useTrustedDocuments(mode.documents);
    case 'off':
      return useNoPersistedQueries();
    default:
      return assertNever(mode, 'persisted operations mode');
  }
}

/** yoga's LRU (most recently used kept), without expiry: an entry only leaves to make room. */
function boundedStore(maxEntries: number): APQStore {
  const store = createInMemoryAPQStore({ max: maxEntries, ttl: 0 });
  return {
    get: (hash) => store.get(hash),
    set: (hash, query) => (query.length <= APQ_MAX_QUERY_LENGTH ? store.set(hash, query) : undefined),
  };
}

/**
 * Ids as Apollo's persisted-query link sends them (`extensions.persistedQuery.sha256Hash`),
 * or as the GraphQL-over-HTTP draft and codegen's docs do (`documentId`).
 */
function documentIdOf(params: GraphQLParams & { documentId?: unknown }): string | null {
  const persisted = params.extensions?.['persistedQuery'] as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === 'string') return persisted.sha256Hash;
  return typeof params.documentId === 'string' ? params.documentId : null;
}

function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  const idRequired = {
    message: ID_REQUIRED_MESSAGE,
    extensions: { code: PERSISTED_OPERATION_CODES.idRequired, http: { status: 400 } },
  };
  return usePersistedOperations({
    getPersistedOperation: (id) => documents.get(id) ?? null,
    allowArbitraryOperations: false,
    extractPersistedOperationId: documentIdOf,
    customErrors: {
      // Not PERSISTED_QUERY_NOT_FOUND: Apollo's link would then send the text, which is refused anyway.
      notFound: { message: NOT_IN_LIST_MESSAGE, extensions: { code: PERSISTED_OPERATION_CODES.notInList, http: { status: 400 } } },
      persistedQueryOnly: idRequired,
      keyNotFound: idRequired,
    },
  }) as Plugin;
}

/**
 * The document a graphql-ws `subscribe` message runs, or why it may not run.
 * yoga's `onParams` hooks (where the plugins above work) see HTTP requests
 * only, so the websocket server asks here. graphql-ws requires a `query`
 * string in every message; in trusted-documents mode it must be empty or the
 * listed document itself, and the id goes in `extensions` as over HTTP.
 * The other modes run the text as sent (Apollo's link sends it in full over
 * websockets).
 */
export function websocketDocument(
  mode: PersistedOperationsMode,
  payload: { query: string; extensions?: Record<string, unknown> | null },
): Readonly<{ type: 'document'; text: string }> | Readonly<{ type: 'refused'; error: GraphQLError }> {
  if (mode.type !== 'trusted') return { type: 'document', text: payload.query };
  const extensions = payload.extensions ?? {};
  const id = documentIdOf({ extensions, documentId: extensions['documentId'] });
  const document = id === null ? undefined : mode.documents.get(id);
  if (id !== null && document === undefined) {
    return { type: 'refused', error: createGraphQLError(NOT_IN_LIST_MESSAGE, { extensions: { code: PERSISTED_OPERATION_CODES.notInList } }) };
  }
  if (document === undefined || (payload.query !== '' && payload.query !== document)) {
    return { type: 'refused', error: createGraphQLError(ID_REQUIRED_MESSAGE, { extensions: { code: PERSISTED_OPERATION_CODES.idRequired } }) };
  }
  return { type: 'document', text: document };
}

function useNoPersistedQueries(): Plugin {
  return {
    onParams({ params }) {
      if (params.query == null && documentIdOf(params) !== null) {
        // The message is what older Apollo links match on; the code is what newer ones do.
        throw createGraphQLError('PersistedQueryNotSupported', {
          extensions: { code: PERSISTED_OPERATION_CODES.notSupported, http: { status: 400 } },
        });
      }
    },
  };
}
