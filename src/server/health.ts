import type { Plugin } from 'graphql-yoga';
import type { Projector } from '../kernel/projector.js';

export type HealthOptions = Readonly<{
  projector: Projector;
  /** False while starting or shutting down: /health answers 503 so balancers stop sending traffic. */
  isReady: () => boolean;
  /** @default '/health' */
  path?: string;
}>;

/** `/health`: readiness plus each projection's checkpoint, lag and last error, as JSON. */
export function useHealth({ projector, isReady, path = '/health' }: HealthOptions): Plugin {
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (url.pathname !== path || request.method !== 'GET') return;
      const ready = isReady();
      const projections = await projector.status();
      const body = { status: ready ? 'ready' : 'unavailable', projections };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: ready ? 200 : 503,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        }),
      );
    },
  };
}
