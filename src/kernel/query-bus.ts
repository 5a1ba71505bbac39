import type { Query } from './messages.js';

/**
 * Per-request memo for query handlers: a DataLoader created through it lives
 * exactly as long as one GraphQL operation, so it batches within the request
 * and never serves another request stale rows.
 */
export type RequestScope = Readonly<{
  memo: <T>(key: string, create: () => T) => T;
  /** Drops everything memoised, e.g. after a command changed what a loader cached. */
  clear: () => void;
}>;

export function createRequestScope(): RequestScope {
  const values = new Map<string, unknown>();
  return {
    memo: <T>(key: string, create: () => T): T => {
      if (!values.has(key)) values.set(key, create());
      return values.get(key) as T;
    },
    clear: () => values.clear(),
  };
}

/**
 * A query that names its result type, so `execute` is typed without a
 * central registry of every module's queries. Build one with a module's
 * query creator (e.g. `getUser(id)`); the `result` marker is never set at run time.
 */
export type TypedQuery<Type extends string, Data extends object, Result> = Query<Type, Data> & Readonly<{ result?: Result }>;

type ResultOf<Q> = Q extends { result?: infer R } ? R : never;

export type QueryHandler<Q extends Query = Query> = (query: Q, scope: RequestScope) => Promise<ResultOf<Q>>;

export class UnknownQueryError extends Error {
  constructor(type: string, known: readonly string[]) {
    super(`No handler is registered for query "${type}" (known: ${known.join(', ') || 'none'})`);
  }
}

export type QueryBus = Readonly<{
  register: <Q extends TypedQuery<string, object, unknown>>(type: Q['type'], handler: QueryHandler<Q>) => void;
  execute: <Q extends TypedQuery<string, object, unknown>>(query: Q, scope: RequestScope) => Promise<ResultOf<Q>>;
}>;

/** A cross-cutting step around every query (metrics); runs in the order given to the bus. */
export type QueryMiddleware = (query: Query, next: (query: Query) => Promise<unknown>) => Promise<unknown>;

export function createQueryBus(middlewares: readonly QueryMiddleware[] = []): QueryBus {
  const handlers = new Map<string, (query: Query, scope: RequestScope) => Promise<unknown>>();
  return {
    register: (type, handler) => {
      if (handlers.has(type)) throw new Error(`Query "${type}" is already registered`);
      handlers.set(type, handler as (query: Query, scope: RequestScope) => Promise<unknown>);
    },
    execute: async <Q extends TypedQuery<string, object, unknown>>(query: Q, scope: RequestScope) => {
      const handler = handlers.get(query.type);
      if (!handler) throw new UnknownQueryError(query.type, [...handlers.keys()]);
      const run = (index: number, current: Query): Promise<unknown> => {
        const middleware = middlewares[index];
        return middleware ? middleware(current, (next) => run(index + 1, next)) : handler(current, scope);
      };
      return (await run(0, query)) as ResultOf<Q>;
    },
  };
}
