import { createGraphQLError, type Plugin } from 'graphql-yoga';

export const BATCH_CODES = { tooLarge: 'BATCH_TOO_LARGE', notSupported: 'BATCHING_NOT_SUPPORTED', empty: 'BATCH_EMPTY' } as const;

/**
 * Refuses a batch (a JSON array of operations, as Apollo's BatchHttpLink
 * sends) that is larger than `maxBatchSize`, before any operation in it
 * runs, with a code a client can act on. yoga's own `batching.limit` stays
 * on behind this as a backstop but answers a bare `BAD_REQUEST`.
 *
 * Each operation of an accepted batch then goes through yoga one by one, as
 * if sent alone: its own parse, validation (so every operation limit),
 * context and execution; only the body-size limit is per request.
 *
 * @param maxBatchSize 0 turns batching off: any array is refused.
 */
export function useBatchLimit(maxBatchSize: number): Plugin {
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        if (!Array.isArray(requestParserResult)) return;
        if (maxBatchSize === 0) {
          throw createGraphQLError('Batching is turned off on this server (MAX_BATCH_SIZE=0): send one operation per request.', {
            extensions: { code: BATCH_CODES.notSupported, http: { status: 400 } },
          });
        }
        if (requestParserResult.length === 0) {
          throw createGraphQLError('A batch must hold at least one operation.', { extensions: { code: BATCH_CODES.empty, http: { status: 400 } } });
        }
        if (requestParserResult.length > maxBatchSize) {
          throw createGraphQLError(`A batch may hold at most ${maxBatchSize} operations; this one holds ${requestParserResult.length}.`, {
            extensions: { code: BATCH_CODES.tooLarge, limit: maxBatchSize, http: { status: 413 } },
          });
        }
      },
    }),
  };
}
