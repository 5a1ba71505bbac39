import { setTimeout as delay } from 'node:timers/promises';
import type { RebuildRequests, RequestStatus } from './kernel/rebuild-requests.js';
import { StartupRefusal } from './startup-refusal.js';

export type RebuildBesideOptions = Readonly<{
  /** Who runs the store, for the message when nobody takes the request. */
  server: string;
  /** How long a request may wait to be taken by a running server. @default 15000 */
  takeTimeoutMs?: number;
  /** How long a build may show no progress before the command gives up on it. @default 60000 */
  stallTimeoutMs?: number;
  /** Where the progress goes. @default process.stderr */
  out?: NodeJS.WritableStream;
}>;

/**
 * `npm run rebuild` on a live system: asks the running server (on
 * PostgreSQL, whichever instance leads the projection) to build `name`
 * beside the live read model, shows its progress, and returns once the
 * switch has committed. Throws a StartupRefusal (one line, exit status 1)
 * when nobody takes the request, the build fails, or it stalls; the live
 * read model is then unchanged.
 */
export async function rebuildBeside(requests: RebuildRequests, name: string, options: RebuildBesideOptions): Promise<RequestStatus> {
  const { takeTimeoutMs = 15_000, stallTimeoutMs = 60_000, out = process.stderr } = options;
  const id = await requests.request(name);
  out.write(`${name}: asked the running server (${options.server}) to build it beside the live read model\n`);
  const started = performance.now();
  let lastChange = started;
  let last = '';
  try {
    for (;;) {
      const status = await requests.status(id);
      const now = performance.now();
      if (status === null) {
        if (now - started > takeTimeoutMs) {
          throw new StartupRefusal(
            `${name}: no running server took the rebuild request within ${Math.round(takeTimeoutMs / 1000)} s (the store is held by ${options.server}); nothing was changed`,
          );
        }
      } else {
        const text = JSON.stringify(status);
        if (text !== last) {
          last = text;
          lastChange = now;
          out.write(`\r${describeProgress(name, status)}`);
        }
        if (status.state === 'done') {
          out.write(`\n${name}: built beside the live read model and switched in: ${status.applied} events in ${((now - started) / 1000).toFixed(2)} s\n`);
          return status;
        }
        if (status.state === 'failed') throw new StartupRefusal(`\n${name}: the build failed, the live read model is unchanged: ${status.error}`);
        if (now - lastChange > stallTimeoutMs) {
          throw new StartupRefusal(`\n${name}: the build showed no progress for ${Math.round(stallTimeoutMs / 1000)} s (did the server stop?); run the command again`);
        }
      }
      await delay(200);
    }
  } finally {
    await requests.withdraw(id).catch(() => {});
  }
}

function describeProgress(name: string, status: RequestStatus): string {
  const ratio = status.total === 0 ? 1 : Math.min(1, status.applied / status.total);
  const width = 30;
  const bar = '#'.repeat(Math.round(ratio * width)).padEnd(width, '.');
  const retrying = status.error ? `  retrying: ${status.error}` : '';
  return `${name} [${bar}] ${(ratio * 100).toFixed(1).padStart(5)}%  ${status.state} ${status.applied} of about ${status.total} events, ${status.eventsPerSecond} events/s${retrying}`;
}
