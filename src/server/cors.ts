import type { Plugin, YogaServerOptions } from 'graphql-yoga';

export type CorsOptions = Readonly<{
  /** Origins given CORS headers; `*` for any; empty: no cross-origin access. */
  origins: readonly string[];
  /** Request headers a cross-origin page may send (answered to preflights). */
  allowedHeaders: readonly string[];
  /** Response headers a cross-origin page may read besides the CORS-safelisted ones. */
  exposedHeaders: readonly string[];
  /** How long a browser may reuse a preflight's answer; 0 sends no Max-Age (browsers then keep it 5 s). */
  maxAgeSeconds: number;
}>;

/**
 * No origin is trusted unless configured; yoga's default would reflect any
 * origin. Bearer tokens travel in a header, never in cookies, so credentials
 * are never allowed.
 */
export function corsOptions(options: CorsOptions): NonNullable<YogaServerOptions<object, object>['cors']> {
  const { origins } = options;
  if (origins.length === 0) return false;
  const any = origins.includes('*');
  const answer = {
    credentials: false,
    methods: ['GET', 'POST'],
    allowedHeaders: [...options.allowedHeaders],
    exposedHeaders: [...options.exposedHeaders],
    ...(options.maxAgeSeconds > 0 ? { maxAge: options.maxAgeSeconds } : {}),
  };
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(any || origins.includes(origin))) return false;
    // One origin per answer: the browser accepts only its own, and `*` would not be an allow-list.
    return { ...answer, origin: [origin] };
  };
}

/**
 * With CORS on, every answer depends on the request's Origin (allowed ones
 * get headers, others none), so a shared cache must key on it: otherwise it
 * could hand an answer without CORS headers to an allowed origin, or one
 * origin's headers to another.
 */
export function useVaryOrigin(options: CorsOptions): Plugin {
  if (options.origins.length === 0) return {};
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      if (!vary) response.headers.set('vary', 'Origin');
      else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) response.headers.set('vary', `${vary}, Origin`);
    },
  };
}
