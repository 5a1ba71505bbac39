import type { Query } from './messages.js';
import type { Position } from './position.js';

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

/** What a handler knows besides its query. */
export type QueryContext = Readonly<{
  scope: RequestScope;
  /**
   * Null when the caller asked for no position. Otherwise whether every
   * projection had passed it within the allowed wait: false means the read
   * model may not show the caller's own write yet (the handler can answer
   * from the event log instead).
   */
  reached: boolean | null;
}>;

export type QueryHandler<Q extends Query = Query> = (query: Q, context: QueryContext) => Promise<ResultOf<Q>>;

/** Read-your-writes: how far the read models are. The projector answers it. */
export type ReadModelProgress = Readonly<{
  /** True once every projection has passed `position`; false when the allowed wait ran out or a halted projection stands before it. */
  reached: (position: Position) => Promise<boolean>;
}>;

export type ExecuteOptions = Readonly<{
  /** The caller's own write: wait (bounded) until the read models have passed it before the handler runs. */
  atLeast?: Position;
}>;

export class UnknownQueryError extends Error {
  constructor(type: string, known: readonly string[]) {
    super(`No handler is registered for query "${type}" (known: ${known.join(', ') || 'none'})`);
  }
}

export type QueryBus = Readonly<{
  register: <Q extends TypedQuery<string, object, unknown>>(type: Q['type'], handler: QueryHandler<Q>) => void;
  execute: <Q extends TypedQuery<string, object, unknown>>(query: Q, scope: RequestScope, options?: ExecuteOptions) => Promise<ResultOf<Q>>;
}>;

/** A cross-cutting step around every query (metrics); runs in the order given to the bus. */
export type QueryMiddleware = (query: Query, next: (query: Query) => Promise<unknown>) => Promise<unknown>;

export type QueryBusOptions = Readonly<{
  middlewares?: readonly QueryMiddleware[];
  /** Answers `atLeast`; without it every position counts as reached (a bus with no projections behind it). */
  progress?: ReadModelProgress;
  /** Each read-your-writes wait, for logs and benchmarks. */
  onWait?: (waitedMs: number, reached: boolean) => void;
}>;

export function createQueryBus(options: QueryBusOptions = {}): QueryBus {
  const { middlewares = [], progress, onWait } = options;
  const handlers = new Map<string, (query: Query, context: QueryContext) => Promise<unknown>>();
  const reachedAt = async (position: Position): Promise<boolean> => {
    if (!progress) return true;
    const started = performance.now();
    const reached = await progress.reached(position);
    onWait?.(performance.now() - started, reached);
    return reached;
  };
  return {
    register: (type, handler) => {
      if (handlers.has(type)) throw new Error(`Query "${type}" is already registered`);
      handlers.set(type, handler as (query: Query, context: QueryContext) => Promise<unknown>);
    },
    execute: async <Q extends TypedQuery<string, object, unknown>>(query: Q, scope: RequestScope, options: ExecuteOptions = {}) => {
      const handler = handlers.get(query.type);
      if (!handler) throw new UnknownQueryError(query.type, [...handlers.keys()]);
      const context: QueryContext = { scope, reached: options.atLeast === undefined ? null : await reachedAt(options.atLeast) };
      const run = (index: number, current: Query): Promise<unknown> => {
        const middleware = middlewares[index];
        return middleware ? middleware(current, (next) => run(index + 1, next)) : handler(current, context);
      };
      return (await run(0, query)) as ResultOf<Q>;
    },
  };
}
