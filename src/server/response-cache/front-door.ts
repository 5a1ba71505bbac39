import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { visibilityKey } from '../../graphql/viewer.js';
import type { PositionCodec } from '../../kernel/event-store.js';
import type { Position } from '../../kernel/position.js';
import type { Projector } from '../../kernel/projector.js';
import type { Authenticator } from '../auth.js';
import { csrfRefusal } from '../csrf.js';
import { requestLineLogger } from '../logger.js';
import { acceptedRequestId } from '../request-logging.js';
import { matchesEtag, MIN_POSITION_HEADER, NOT_MODIFIED_HEADERS, POSITION_HEADER, type CacheFilling } from './plugin.js';
import type { CachedAnswer, ReadSince, TaggedCache } from './tagged-cache.js';

/**
 * Where a request the cache may answer later waits for its answer: opened by
 * the front door on a miss, filled by the plugin (plugin.ts) once yoga has
 * computed a cacheable answer, and stored with the response's headers.
 */
export type AnswerSlot = {
  readonly key: string;
  ready?: Readonly<{ session: string; dataJson: string; read: ReadSince }>;
};

export type FrontDoorOptions = Readonly<{
  cache: TaggedCache;
  projector: Pick<Projector, 'position'>;
  positions: Pick<PositionCodec, 'parsePosition' | 'formatPosition'>;
  authenticator: Pick<Authenticator, 'viewerFor'>;
  logger: Logger;
  /** POST bodies longer than this go to yoga unread (its limit answers 413). */
  maxBodyBytes: number;
  /** The GraphQL endpoint's path. */
  endpoint: string;
}>;

export type FrontDoor = Readonly<{
  /** The request listener: hits answered here, everything else handed to `app`. */
  listener: (app: RequestListener) => RequestListener;
  /** What the app's plugin fills the cache through (plugin.ts). */
  filling: CacheFilling;
}>;

/** Content types of a POST the cache answers: the JSON ones (a form POST goes through yoga's CSRF check). */
const JSON_TYPE = /^application\/(graphql-response\+)?json\b/i;

/**
 * Response-cache hits, answered in front of yoga. A hit is a request the
 * same as one whose answer is cached: same method, URL, body, token,
 * `Accept`, `Origin` and content type, so every check yoga made of it
 * (parsing, validation, limits, persisted operations, CORS) would come out
 * the same, and the stored answer is exactly what yoga would send. What can
 * change meanwhile is checked here at each hit: the token is verified again
 * (it may have expired) and must name the same viewer scope, the CSRF rule
 * is applied, the `x-min-position` header must already be reached (else
 * yoga waits for it), and `If-None-Match` gets its 304. The position is
 * read before the lookup: projections drop what an event changes before
 * their checkpoint moves, so an entry still present reflects that position.
 *
 * Everything else, and every miss, goes to yoga, with the body read here
 * handed over as `req.body` (@whatwg-node/server reads it from there).
 */
export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { cache, projector, positions, authenticator, logger, endpoint } = options;
  const slots = new WeakMap<IncomingMessage, AnswerSlot>();
  const lines = requestLineLogger(logger);

  const keyOf = (req: IncomingMessage, body: string): string => {
    const h = req.headers;
    return `${req.method} ${req.url}\n${h.authorization ?? ''}\n${h.accept ?? ''}\n${h.origin ?? ''}\n${h['content-type'] ?? ''}\n${body}`;
  };

  /**
   * The answer to send, if the cache holds one this request may have; a miss returns at once, without a
   * promise, since most requests that reach here are misses (mutations, cold reads).
   */
  const lookUp = (req: IncomingMessage, key: string): Readonly<{ answer: CachedAnswer; current: Position }> | undefined => {
    const current = projector.position();
    const wanted = req.headers[MIN_POSITION_HEADER];
    if (typeof wanted === 'string') {
      const parsed = positions.parsePosition(wanted);
      if (!parsed.ok || current < parsed.value) return undefined;
    }
    // Read after the position: projections drop what an event changes before their checkpoint moves, so an
    // entry still present reflects `current`. Looked up before the token is verified: a miss goes to yoga,
    // which verifies it anyway.
    const answer = cache.get(key);
    if (!answer || csrfRefusal(req.method!, headersOf(req)) !== null) return undefined;
    return { answer, current };
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, { answer, current }: { answer: CachedAnswer; current: Position }, started: number): Promise<boolean> => {
    const headers = req.headers;
    const viewer = await authenticator.viewerFor(headers.authorization);
    if (!viewer.ok || answer.session !== visibilityKey(viewer.value)) return false;
    cache.countHit();
    const position = positions.formatPosition(current);
    const offered = headers['x-request-id'];
    const requestId = acceptedRequestId(typeof offered === 'string' ? offered : undefined);
    const held = headers['if-none-match'];
    if (answer.etag !== undefined && typeof held === 'string' && matchesEtag(held, answer.etag)) {
      const kept: string[] = [];
      for (let i = 0; i < answer.headers.length; i += 2) {
        if ((NOT_MODIFIED_HEADERS as readonly string[]).includes(answer.headers[i]!)) kept.push(answer.headers[i]!, answer.headers[i + 1]!);
      }
      res.writeHead(304, [...kept, POSITION_HEADER, position, 'x-request-id', requestId]).end();
    } else {
      const body = answer.body[0] + position + answer.body[1];
      res
        .writeHead(200, [...answer.headers, POSITION_HEADER, position, 'x-request-id', requestId, 'content-length', String(Buffer.byteLength(body))])
        .end(body);
    }
    lines.info({ requestId, method: req.method, path: endpoint, status: res.statusCode, ms: Math.round((performance.now() - started) * 100) / 100, cached: true }, 'request done');
    return true;
  };

  const listener = (app: RequestListener): RequestListener => {
    const toApp = (req: IncomingMessage, res: ServerResponse, key: string | undefined) => {
      if (key !== undefined) slots.set(req, { key });
      app(req, res);
    };
    // A cache failure is a miss, never an error: yoga answers from the read model.
    const failed = (req: IncomingMessage, res: ServerResponse, key: string, error: unknown) => {
      logger.warn({ err: error }, 'response cache could not answer; handing the request on');
      if (!res.headersSent) toApp(req, res, key);
    };
    const answerOrPass = (req: IncomingMessage, res: ServerResponse, key: string, started: number) => {
      let found: ReturnType<typeof lookUp>;
      try {
        found = lookUp(req, key);
      } catch (error) {
        return failed(req, res, key, error);
      }
      if (!found) return toApp(req, res, key);
      serve(req, res, found, started).then(
        (served) => {
          if (!served) toApp(req, res, key);
        },
        (error: unknown) => failed(req, res, key, error),
      );
    };
    return (req, res) => {
      const started = performance.now();
      const path = pathOf(req.url ?? '/');
      if (path !== endpoint) return app(req, res);
      if (req.method === 'GET') return answerOrPass(req, res, keyOf(req, ''), started);
      const length = Number(req.headers['content-length']);
      if (req.method !== 'POST' || !JSON_TYPE.test(req.headers['content-type'] ?? '') || !(length > 0) || length > options.maxBodyBytes) {
        return app(req, res);
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('error', () => res.destroy());
      req.once('end', () => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        // Handed to yoga as the body it would have read (a Uint8Array: @whatwg-node/server's normalizeNodeRequest).
        (req as IncomingMessage & { body?: Buffer }).body = body;
        const text = body.toString('utf8');
        // A batch is answered by yoga: the cache keeps single operations.
        if (text.trimStart().startsWith('[')) return toApp(req, res, undefined);
        answerOrPass(req, res, keyOf(req, text), started);
      });
    };
  };

  return {
    listener,
    filling: {
      cache,
      slotOf: (serverContext) => {
        const req = (serverContext as { req?: IncomingMessage }).req;
        return req ? slots.get(req) : undefined;
      },
    },
  };
}

/** The path of a request target, without its query. */
function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** The two Headers methods the CSRF rule uses, over Node's header object. */
function headersOf(req: IncomingMessage): Pick<Headers, 'has' | 'get'> {
  return {
    has: (name) => req.headers[name] !== undefined,
    get: (name) => {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
