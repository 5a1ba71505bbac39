import { fork, type ChildProcess } from 'node:child_process';
import type { OperationName } from './operations.js';
import type { LatencySummary } from './stats.js';

export type HttpJob = Readonly<{
  type: 'http';
  url: string;
  op: OperationName;
  connections: number;
  warmupMs: number;
  durationMs: number;
  seededUsers: number;
  /** The server's process: its CPU time over the measured window is returned as `serverCpuSeconds`. */
  serverPid?: number;
}>;
export type RateJob = Readonly<{
  type: 'rate';
  url: string;
  op: OperationName;
  rate: number;
  connections: number;
  durationMs: number;
  seededUsers: number;
}>;
export type SubscribeJob = Readonly<{
  type: 'subscribe';
  url: string;
  count: number;
  after: string;
  /** Subscriber i runs operation i mod `operations`: documents that differ, each one cohort in the server. @default 1 */
  operations?: number;
  /** Besides the `count` live ones: raw graphql-ws sockets that subscribe, then stop reading. @default 0 */
  stalled?: number;
  /** Fields per event: `standard` (~250 bytes a message) or `bulky` (~3.5 kB), to fill a stalled socket sooner. @default 'standard' */
  selection?: 'standard' | 'bulky';
}>;
export type FinishJob = Readonly<{
  type: 'finish';
  expected: number;
  lastPosition: string;
  graceMs: number;
  /** Every position the driver appended, for checking the stalled subscribers' resumes. */
  positions?: readonly string[];
}>;
export type Job = HttpJob | RateJob | SubscribeJob | FinishJob;

export type HttpResult = Readonly<{ ok: number; errors: number; problems: string[]; seconds: number; latencies: number[]; serverCpuSeconds?: number }>;
export type SubscriberResult = Readonly<{
  subscribers: number;
  expectedEach: number;
  lost: number;
  outOfOrder: number;
  errors: number;
  problems: string[];
  latency: LatencySummary;
  /** The stalled subscribers, once they read again and resubscribed after the position they were cut at. */
  stalled?: StalledResult;
}>;
export type StalledResult = Readonly<{
  count: number;
  /** Ended with RESUME_AFTER (the rest were never over the limit and simply caught up). */
  cut: number;
  /** Got every appended event exactly once and in order, across the cut and the resume. */
  complete: number;
  /** Found their socket closed by the server (its keepalive drops a connection that answers no ping) and resumed on a new one, as a client does. */
  reconnected: number;
  /** Cuts of a resumed subscription, catching up behind the others of its cohort by more than the limit; each resubscribed again. */
  recut: number;
  problems: string[];
}>;

type Reply<J extends Job> = J extends HttpJob
  ? HttpResult
  : J extends RateJob
    ? HttpResult & { positions: string[] }
    : J extends SubscribeJob
      ? { connected: number }
      : SubscriberResult;

export type LoadGenerator = Readonly<{ run: <J extends Job>(job: J) => Promise<Reply<J>>; close: () => void }>;

/** Forks a load-generator process; jobs run one after another in it. */
export function forkLoadGenerator(): LoadGenerator {
  const child: ChildProcess = fork(new URL('./load-worker.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`load generator: ${message.error}`));
    else waiter?.resolve(message.result as never);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`load generator exited (${code})`));
    pending.clear();
  });
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve: resolve as (value: never) => void, reject });
        child.send({ id, job });
      }),
    close: () => child.kill(),
  };
}
