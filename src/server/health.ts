import type { Plugin } from 'graphql-yoga';
import type { Projector } from '../kernel/projector.js';

export type HealthOptions = Readonly<{
  projector: Projector;
  /** False while starting or shutting down: /health answers 503 so balancers stop sending traffic. */
  isReady: () => boolean;
  /** @default '/health' */
  path?: string;
}>;

/**
 * `/health`: readiness plus each projection's state, checkpoint, lag and last
 * error, as JSON. A halted projection makes the status `degraded` but keeps
 * 200: every instance halts on the same event, so taking them out of the
 * balancer would stop the write side and the other read models too, which
 * still work. Alert on `degraded`.
 */
export function useHealth({ projector, isReady, path = '/health' }: HealthOptions): Plugin {
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (url.pathname !== path || request.method !== 'GET') return;
      const ready = isReady();
      const projections = await projector.status();
      const halted = projections.some((projection) => projection.state === 'halted');
      const body = { status: ready ? (halted ? 'degraded' : 'ready') : 'unavailable', projections };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: ready ? 200 : 503,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        }),
      );
    },
  };
}
