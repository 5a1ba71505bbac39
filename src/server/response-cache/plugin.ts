import { createHash, randomUUID } from 'node:crypto';
import { getOperationAST, type ExecutionResult } from 'graphql';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Viewer } from '../../graphql/viewer.js';
import { visibilityKey } from '../../graphql/viewer.js';
import { readRecordOf, startReadRecord, type ReadRecord } from '../../graphql/cache-tags.js';
import type { EventLog, PositionCodec } from '../../kernel/event-store.js';
import type { Position } from '../../kernel/position.js';
import type { Projector } from '../../kernel/projector.js';
import { etagOf, type PendingWrite, type TaggedCache } from './tagged-cache.js';

/** Response header: the log position the answer reflects (as `extensions.position`). */
export const POSITION_HEADER = 'x-position';
/** Request header: the last position the client saw; the answer reflects at least that one. */
export const MIN_POSITION_HEADER = 'x-min-position';

export type PositionedResponsesOptions = Readonly<{
  projector: Pick<Projector, 'position' | 'waitFor'>;
  positions: Pick<PositionCodec, 'parsePosition' | 'formatPosition'> & Pick<EventLog, 'headPosition'>;
  /** How long a request with a position header waits for the projections (READ_YOUR_WRITES_TIMEOUT_MS). */
  waitTimeoutMs: number;
  /** The request's viewer, authenticated once per request (the context reuses it). Rejects on a bad token. */
  viewerOf: (request: Request) => Promise<Viewer>;
  /** Absent: the cache is off; positions, ETags and Cache-Control still apply. */
  cache?: TaggedCache;
  /** Query root fields whose answers the cache may keep (every other root field: never). */
  cacheableFields: readonly string[];
  /** Every query root field of the schema. */
  queryFields: readonly string[];
}>;

/** How the plugin marks a result it served from the cache (its hits carry the entry's stored headers). */
const SERVED_FROM_CACHE = Symbol.for('servedFromResponseCache');

/** What this file keeps per operation, beside the context. */
type OperationState = {
  readonly position: Position;
  readonly startedAt: number;
  readonly record: ReadRecord;
  /** False once execution shows a mutation or subscription (a hit is always a query). */
  query: boolean;
  key?: string;
  session?: string;
  write?: PendingWrite;
};

/**
 * Positions on every answer, the position header, the response cache and
 * HTTP caching, as yoga plugins. The cache is @graphql-yoga/plugin-response-cache
 * (key, viewer scope as its session, serving hits before parsing); what it
 * cannot do is here: tags from what the resolvers read, refusing answers
 * that went stale while computed (tagged-cache.ts), ETags that change with
 * the answer (the plugin's is the cache key, the same before and after an
 * invalidation, which would answer 304 to a client holding the old answer),
 * and Cache-Control by viewer scope.
 */
export function usePositionedResponses(options: PositionedResponsesOptions): Plugin[] {
  const { projector, positions, cache } = options;
  const operations = new WeakMap<object, OperationState>();
  const cacheable = new Set(options.cacheableFields);

  const positions_: Plugin = {
    async onParams({ request, context }) {
      const wanted = request.headers.get(MIN_POSITION_HEADER);
      if (wanted !== null) await waitForPosition(wanted, options);
      // Before anything reads: the answer reflects at least this position, and invalidations after this count against it.
      operations.set(context, { position: projector.position(), startedAt: cache?.generation() ?? 0, record: startReadRecord(context), query: true });
    },
    onExecute({ args }) {
      // Mutations and subscriptions are never cached (the plugin would cache a mutation's result too).
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') {
        const state = operations.get(args.contextValue as object);
        if (state) state.query = false;
        const record = readRecordOf(args.contextValue as object);
        if (record) record.uncacheable = true;
      }
    },
    async onExecutionResult({ request, result, setResult, context }) {
      const state = operations.get(context);
      // A mutation's answer carries its own `position`; subscriptions stream, each event with its own.
      if (!state?.query || result === undefined || isAsyncIterable(result)) return;
      const { http, responseCache: _metadata, ...extensions } = (result.extensions ?? {}) as Record<string, unknown> & { http?: { headers?: Record<string, string> } };
      const headers: Record<string, string> = { ...http?.headers };
      delete headers['Last-Modified'];
      delete headers['ETag'];
      const position = positions.formatPosition(state.position);
      headers[POSITION_HEADER] = position;
      if (request.method === 'GET' && !result.errors?.length && result.data) {
        const viewer = await options.viewerOf(request).catch(() => undefined);
        const stored = (result as Record<symbol, unknown>)[SERVED_FROM_CACHE] === true ? http?.headers : undefined;
        if (viewer) {
          headers['ETag'] = stored?.['ETag'] ?? state.write?.etag ?? etagOf(visibilityKey(viewer), JSON.stringify(result.data));
          headers['Cache-Control'] = stored?.['Cache-Control'] ?? cacheControlFor(viewer, state.record.personal);
        }
      }
      setResult({ ...result, extensions: { ...extensions, position, http: { ...http, headers } } } as ExecutionResult);
    },
    onResponse({ request, response, setResponse }) {
      if (request.method !== 'GET') return;
      const vary = response.headers.get('vary');
      response.headers.set('vary', vary ? `${vary}, Authorization` : 'Authorization');
      const etag = response.headers.get('etag');
      const held = request.headers.get('if-none-match');
      if (response.status !== 200 || etag === null || held === null) return;
      if (!held.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) return;
      const kept = new Headers();
      for (const name of ['etag', 'cache-control', 'vary', POSITION_HEADER, 'x-request-id']) {
        const value = response.headers.get(name);
        if (value !== null) kept.set(name, value);
      }
      setResponse(new Response(null, { status: 304, headers: kept }));
    },
  };
  if (!cache) return [positions_];

  const responseCache = useResponseCache({
    cache,
    // Only operations that came through yoga's HTTP pipeline (onParams above): graphql-ws executes without one, and
    // the plugin would fail there. Its own If-None-Match handling (the ETag as a cache key) is off with it: ours is below.
    enabled: (_request, context) => operations.has(context as object),
    session: async (request) => {
      // A bad token is refused by the context (401); meanwhile it matches no one's entries.
      const viewer = await options.viewerOf(request).catch(() => undefined);
      return viewer ? visibilityKey(viewer) : `unauthenticated:${randomUUID()}`;
    },
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId, context }) => {
      const key = createHash('sha256')
        .update([documentString, operationName ?? '', JSON.stringify(variableValues ?? {}), sessionId ?? ''].join('\0'))
        .digest('base64url');
      const state = operations.get(context as object);
      if (state) Object.assign(state, { key, session: sessionId ?? '' });
      return key;
    },
    // Projections invalidate; mutation results never touch the cache.
    invalidateViaMutation: false,
    // The plugin's own ttl mechanism turns every root field that is not a cacheable one off.
    ttlPerSchemaCoordinate: Object.fromEntries(options.queryFields.filter((field) => !cacheable.has(field)).map((field) => [`Query.${field}`, 0])),
    // Called right before the plugin's `set`, with the context: hands the cache what this answer read.
    onTtl: ({ ttl, context }) => {
      const state = operations.get(context as object);
      if (!state?.key || state.record.uncacheable || ttl === 0) return 0;
      const { record } = state;
      const write: PendingWrite = {
        key: state.key,
        startedAt: state.startedAt,
        tags: record.tags,
        session: state.session ?? '',
        headers: { 'Cache-Control': cacheControlFromSession(state.session ?? '', record.personal) },
      };
      state.write = write;
      cache.expect(write);
      return ttl;
    },
    includeExtensionMetadata: false,
  });
  return [positions_, responseCache];
}

/**
 * Never a shared-cache header on a personalised answer: `no-store` where a
 * personal field was shown to its owner, `private` where the token decides
 * the answer; `no-cache` everywhere, since a newer position can change any answer (the ETag makes revalidating cheap).
 */
function cacheControlFor(viewer: Viewer, personal: boolean): string {
  if (viewer.type === 'user') return personal ? 'no-store' : 'private, no-cache';
  return 'public, no-cache';
}

const cacheControlFromSession = (session: string, personal: boolean) =>
  session.startsWith('user:') ? (personal ? 'no-store' : 'private, no-cache') : 'public, no-cache';

async function waitForPosition(text: string, options: PositionedResponsesOptions): Promise<void> {
  const { positions, projector, waitTimeoutMs } = options;
  const parsed = positions.parsePosition(text);
  if (!parsed.ok) {
    throw createGraphQLError(`The ${MIN_POSITION_HEADER} header "${text.slice(0, 64)}" ${parsed.error}.`, {
      extensions: { code: 'INVALID_POSITION', http: { status: 400 } },
    });
  }
  if (await projector.waitFor(parsed.value, waitTimeoutMs)) return;
  const beyondTheLog = parsed.value > (await positions.headPosition());
  throw createGraphQLError(
    beyondTheLog
      ? `The ${MIN_POSITION_HEADER} header names a position beyond the end of the event log; no answer is that new.`
      : `The read models did not reach the position in the ${MIN_POSITION_HEADER} header within ${waitTimeoutMs} ms; try again.`,
    { extensions: { code: 'POSITION_NOT_REACHED', http: { status: 503, headers: { 'Retry-After': '1' } } } },
  );
}
