import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** yoga's documented header: a browser can only send it after a CORS preflight. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Headers that prove the request was preflighted, since no cross-site form
 * or link can set them: yoga's, and the two Apollo Server accepts, so an
 * Apollo Client set up for Apollo's CSRF prevention works unchanged.
 */
export const PREFLIGHT_PROOF_HEADERS = [CSRF_HEADER, 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

/** Content types a browser sends cross-site without a preflight (a plain HTML form). */
const FORM_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Cross-site request forgery only harms a request that the browser sends
 * with credentials the page itself never saw: cookies, or HTTP Basic /
 * Negotiate credentials it remembers. This API authenticates by bearer token
 * only, which a browser never attaches by itself; cookies mean a proxy in
 * front of it may trust them.
 *
 * - A JSON (or any non-form) POST is always preflighted: allowed.
 * - A request carrying a preflight-proof header: allowed.
 * - A form POST can hold a mutation and reach a server on a private network
 *   from any page, with no credentials at all: refused without the header.
 * - A GET (queries and subscriptions only; a mutation stays 405) is refused
 *   only when it carries ambient credentials and the browser does not vouch
 *   that it comes from the API's own origin (`Sec-Fetch-Site: same-origin`,
 *   or `none` for a URL typed by the user). A cross-site page cannot read
 *   the answer to a GET without CORS, so without credentials it learns
 *   nothing it could not fetch itself.
 */
export function useCSRFPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      const refused = csrfRefusal(request.method, request.headers);
      if (refused) throw refusal(refused);
    },
  };
}

/** What the request is, when the rule above refuses it without the header; `null` when it may pass. */
export function csrfRefusal(method: string, headers: Pick<Headers, 'has' | 'get'>): 'credentialed GET' | 'form POST' | null {
  // A browser preflights every other method, so only these two can be forged.
  if (method !== 'GET' && method !== 'POST') return null;
  if (PREFLIGHT_PROOF_HEADERS.some((name) => headers.has(name))) return null;
  if (method === 'GET') return carriesAmbientCredentials(headers) && !fromOwnOrigin(headers) ? 'credentialed GET' : null;
  return isPreflighted(headers.get('content-type')) ? null : 'form POST';
}

function carriesAmbientCredentials(headers: Pick<Headers, 'has' | 'get'>): boolean {
  if (headers.has('cookie')) return true;
  const authorization = headers.get('authorization');
  return authorization !== null && !/^bearer\s/i.test(authorization.trimStart());
}

function fromOwnOrigin(headers: Pick<Headers, 'has' | 'get'>): boolean {
  const site = headers.get('sec-fetch-site');
  return site === 'same-origin' || site === 'none';
}

function isPreflighted(contentType: string | null): boolean {
  if (!contentType) return false;
  const type = contentType.toLowerCase();
  return !FORM_CONTENT_TYPES.some((form) => type.startsWith(form));
}

const REFUSED_WHAT = {
  'credentialed GET': 'A GET request that carries cookies or browser-managed credentials',
  'form POST': 'A form or text/plain POST',
} as const;

const refusal = (kind: keyof typeof REFUSED_WHAT) =>
  createGraphQLError(`${REFUSED_WHAT[kind]} must carry the header ${CSRF_HEADER} (any value): cross-site request forgery protection.`, {
    extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } },
  });
