import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { requestLineLogger } from './logger.js';

/** What a client may offer as `x-request-id`: short and safe to log and store; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Probes and scrapes arrive every few seconds; their lines go to debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/health', '/live', '/metrics']);

const requests = new WeakMap<Request, { id: string; started: number }>();

/**
 * The request's id: the client's `x-request-id` when it is acceptable, else
 * a new UUID. The same id is logged, returned in the `x-request-id` response
 * header and stored as `correlationId` in the metadata of the events the
 * request appends.
 */
export function requestIdOf(request: Request | undefined): string {
  if (request) {
    const known = requests.get(request);
    if (known) return known.id;
  }
  return acceptedRequestId(request?.headers.get('x-request-id'));
}

/** The client's offered `x-request-id` when it is acceptable, else a new UUID (also for requests answered outside yoga). */
export function acceptedRequestId(offered: string | null | undefined): string {
  return offered && REQUEST_ID.test(offered) ? offered : randomUUID();
}

/**
 * One log line per HTTP request with its id, method, path, status and
 * duration. Never headers, query text or variables: they may hold tokens
 * and emails.
 */
export function useRequestLogging(logger: Logger): Plugin {
  const lines = requestLineLogger(logger);
  return {
    onRequest({ request }) {
      requests.set(request, { id: requestIdOf(request), started: performance.now() });
    },
    onResponse({ request, response }) {
      const known = requests.get(request);
      if (!known) return;
      response.headers.set('x-request-id', known.id);
      const pathname = pathOf(request.url);
      const ms = Math.round((performance.now() - known.started) * 100) / 100;
      const line = { requestId: known.id, method: request.method, path: pathname, status: response.status, ms };
      if (QUIET_PATHS.has(pathname)) lines.debug(line, 'request done');
      else lines.info(line, 'request done');
    },
  };
}

/**
 * The path of an absolute request URL, without parsing all of it: a full
 * `new URL()` per request was a visible share of a small query's CPU time.
 */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const path = url.slice(start);
  const end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}
