import { getOperationAST, Kind, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Viewer } from '../../graphql/viewer.js';
import { visibilityKey } from '../../graphql/viewer.js';
import { readRecordOf, startReadRecord, type ReadRecord } from '../../graphql/cache-tags.js';
import type { EventLog, PositionCodec } from '../../kernel/event-store.js';
import type { Position } from '../../kernel/position.js';
import type { Projector } from '../../kernel/projector.js';
import type { AnswerSlot } from './front-door.js';
import { etagOf, type TaggedCache } from './tagged-cache.js';

/** Response header: the log position the answer reflects (as `extensions.position`). */
export const POSITION_HEADER = 'x-position';
/** Request header: the last position the client saw; the answer reflects at least that one. */
export const MIN_POSITION_HEADER = 'x-min-position';

/** The response cache as this plugin fills it: the store, and the slot the front door opened for a request it may answer later. */
export type CacheFilling = Readonly<{ cache: TaggedCache; slotOf: (serverContext: object) => AnswerSlot | undefined }>;

export type PositionedResponsesOptions = Readonly<{
  projector: Pick<Projector, 'position' | 'waitFor'>;
  positions: Pick<PositionCodec, 'parsePosition' | 'formatPosition'> & Pick<EventLog, 'headPosition'>;
  /** How long a request with a position header waits for the projections (READ_YOUR_WRITES_TIMEOUT_MS). */
  waitTimeoutMs: number;
  /** The request's viewer, authenticated once per request (the context reuses it). Rejects on a bad token. */
  viewerOf: (request: Request) => Promise<Viewer>;
  /** Absent: the cache is off; positions, ETags and Cache-Control still apply. */
  cache?: CacheFilling;
  /** Query root fields whose answers the cache may keep (every other root field: never). */
  cacheableFields: readonly string[];
}>;

/** What this file keeps per operation, beside the context. */
type OperationState = {
  readonly position: Position;
  readonly startedAt: number;
  readonly record: ReadRecord;
  /** False once execution shows a mutation or subscription. */
  query: boolean;
};

/**
 * Positions on every answer, the position header, HTTP caching, and filling
 * the response cache, as yoga plugins. Hits never reach yoga: they are
 * answered in front of it (front-door.ts), which is why this is not
 * @graphql-yoga/plugin-response-cache. That plugin serves a hit only after
 * yoga has parsed the request, built a context and run every plugin's hooks
 * for it, and on a miss it walks the whole result for entity ids and strips
 * the metadata fields it added; measured, a miss cost more with it than the
 * read model's query, and a hit stayed near a bare server's speed. Nor could
 * it tag a list (a page cannot learn of a user created after it from the ids
 * in it), refuse an answer that went stale while computed, or give ETags
 * that change with the answer (its ETag is the cache key). Here resolvers
 * record what they read (src/graphql/cache-tags.ts), and an answer is stored
 * whole, as the front door sends it.
 */
export function usePositionedResponses(options: PositionedResponsesOptions): Plugin {
  const { projector, positions, cache } = options;
  const operations = new WeakMap<object, OperationState>();
  const cacheable = new Set(options.cacheableFields);
  const readsOnlyCacheableFields = (operation: OperationDefinitionNode) =>
    operation.selectionSet.selections.every(
      (selection) => selection.kind === Kind.FIELD && (selection.name.value === '__typename' || cacheable.has(selection.name.value)),
    );

  return {
    async onParams({ request, context }) {
      const wanted = request.headers.get(MIN_POSITION_HEADER);
      if (wanted !== null) await waitForPosition(wanted, options);
      // Before anything reads: the answer reflects at least this position, and invalidations after this count against it.
      operations.set(context, { position: projector.position(), startedAt: cache?.cache.generation() ?? 0, record: startReadRecord(context), query: true });
    },
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation === 'query' && readsOnlyCacheableFields(operation)) return;
      const record = readRecordOf(args.contextValue as object);
      if (record) record.uncacheable = true;
      // Mutations and subscriptions carry their own positions.
      if (operation?.operation !== 'query') {
        const state = operations.get(args.contextValue as object);
        if (state) state.query = false;
      }
    },
    async onExecutionResult({ request, result, setResult, context }) {
      const state = operations.get(context);
      // A mutation's answer carries its own `position`; subscriptions stream, each event with its own.
      if (!state?.query || result === undefined || isAsyncIterable(result)) return;
      const { http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown> & { http?: { headers?: Record<string, string> } };
      const headers: Record<string, string> = { ...http?.headers };
      const position = positions.formatPosition(state.position);
      headers[POSITION_HEADER] = position;
      const answered = !result.errors?.length && result.data != null;
      const slot = cache?.slotOf(context);
      // Kept whole for the front door: only a plain answer (no extensions of its own) that read nothing untaggable, and that the cache admits.
      const cacheableSlot = answered && !state.record.uncacheable && Object.keys(extensions).length === 0 ? slot : undefined;
      const keep = cacheableSlot !== undefined && cache!.cache.admits(cacheableSlot.key);
      if (cacheableSlot) cache!.cache.countMiss(keep);
      // The viewer and the data's JSON only where something needs them: a GET's ETag, or an answer to keep.
      const needed = answered && (request.method === 'GET' || keep);
      const viewer = needed ? await options.viewerOf(request).catch(() => undefined) : undefined;
      const dataJson = needed ? JSON.stringify(result.data) : undefined;
      if (request.method === 'GET' && viewer && dataJson !== undefined) {
        headers['ETag'] = etagOf(visibilityKey(viewer), dataJson);
        headers['Cache-Control'] = cacheControlFor(viewer, state.record.personal);
      }
      if (keep && viewer && dataJson !== undefined) {
        cacheableSlot.ready = { session: visibilityKey(viewer), dataJson, read: { startedAt: state.startedAt, tags: state.record.tags } };
      }
      setResult({ ...result, extensions: { ...extensions, position, http: { ...http, headers } } } as ExecutionResult);
    },
    onResponse({ request, response, setResponse, serverContext }) {
      if (request.method === 'GET') {
        const vary = response.headers.get('vary');
        response.headers.set('vary', vary ? `${vary}, Authorization` : 'Authorization');
      }
      if (cache && response.status === 200) keepForTheFrontDoor(cache, serverContext, response);
      if (request.method !== 'GET') return;
      const etag = response.headers.get('etag');
      const held = request.headers.get('if-none-match');
      if (response.status !== 200 || etag === null || held === null) return;
      if (!matchesEtag(held, etag)) return;
      const kept = new Headers();
      for (const name of NOT_MODIFIED_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) kept.set(name, value);
      }
      setResponse(new Response(null, { status: 304, headers: kept }));
    },
  };
}

/** Headers a 304 keeps from the answer it stands for. */
export const NOT_MODIFIED_HEADERS = ['etag', 'cache-control', 'vary', POSITION_HEADER, 'x-request-id'] as const;

/** Whether an `If-None-Match` value names this ETag (weak or strong). */
export const matchesEtag = (held: string, etag: string) => held.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);

const JSON_CONTENT_TYPE = /^application\/(graphql-response\+)?json\b/i;

/** Headers a hit sets afresh: the position, the request's id, the length of its body, and what Node adds. */
const PER_REQUEST_HEADERS = new Set([POSITION_HEADER, 'x-request-id', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/** Stores the answer the plugin prepared, with the headers yoga and the plugins gave it (CORS, Vary, ETag…). */
function keepForTheFrontDoor(cache: CacheFilling, serverContext: object, response: Response): void {
  const slot = cache.slotOf(serverContext);
  const ready = slot?.ready;
  if (!slot || !ready) return;
  slot.ready = undefined;
  // An answer sent another way (a query over SSE or multipart, by its Accept header) is not kept.
  if (!JSON_CONTENT_TYPE.test(response.headers.get('content-type') ?? '')) return;
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    // Lower case, as the front door compares them (a ponyfilled Headers may keep the case they were set in).
    const lower = name.toLowerCase();
    if (!PER_REQUEST_HEADERS.has(lower)) headers.push(lower, value);
  });
  const etag = response.headers.get('etag') ?? undefined;
  const answer = { body: [`{"data":${ready.dataJson},"extensions":{"position":"`, '"}}'] as const, headers, etag, session: ready.session };
  cache.cache.set(slot.key, answer, ready.read);
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
