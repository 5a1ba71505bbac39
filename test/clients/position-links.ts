/**
 * The README's client recipe ("Reading your own writes on any instance"),
 * tested by test/clients/position-header.e2e.test.ts with the real libraries.
 * Copied into README.md verbatim; test/clients/readme-recipe.unit.test.ts checks it.
 */
import { ApolloLink } from '@apollo/client/core/index.js';
import { makeOperation, mapExchange, type Exchange } from '@urql/core';

/** The `position` of the last mutation answer seen (positions are opaque: the newest write is the one to wait for). */
function lastWritePosition() {
  let last: string | undefined;
  return {
    header: (): Record<string, string> => (last === undefined ? {} : { 'x-min-position': last }),
    remember: (data: unknown) => {
      for (const field of Object.values(data ?? {})) {
        const position = (field as { position?: unknown } | null)?.position;
        if (typeof position === 'string') last = position;
      }
    },
  };
}

/** Apollo Client: put it before the HTTP link, `from([positionLink(), httpLink])`. */
export function positionLink(): ApolloLink {
  const position = lastWritePosition();
  return new ApolloLink((operation, forward) => {
    operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({ headers: { ...headers, ...position.header() } }));
    return forward(operation).map((result) => {
      position.remember(result.data);
      return result;
    });
  });
}

/** urql: put it before `fetchExchange`, `exchanges: [cacheExchange, positionExchange(), fetchExchange]`. */
export function positionExchange(): Exchange {
  const position = lastWritePosition();
  return mapExchange({
    onOperation: (operation) => {
      const options = typeof operation.context.fetchOptions === 'function' ? operation.context.fetchOptions() : (operation.context.fetchOptions ?? {});
      const headers = { ...(options.headers as Record<string, string> | undefined), ...position.header() };
      return makeOperation(operation.kind, operation, { ...operation.context, fetchOptions: { ...options, headers } });
    },
    onResult: (result) => position.remember(result.data),
  });
}
