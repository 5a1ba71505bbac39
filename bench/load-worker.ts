/**
 * The load generator, run as its own process (forked by load.ts) so it never
 * shares the server's event loop. Takes jobs over IPC, answers with raw
 * latencies and error counts; statistics are the runner's.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { operation } from './operations.js';
import { summarize } from './stats.js';
import type { HttpJob, HttpResult, Job, RateJob, SubscribeJob, SubscriberResult } from './load.js';
import { orderKey } from './positions.js';

const prefix = Math.random().toString(36).slice(2, 5);
let jobs = 0;

async function post(pool: Pool, path: string, body: string) {
  const response = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
  const json = (await response.body.json()) as Parameters<ReturnType<typeof operation>['check']>[0];
  return { status: response.statusCode, json };
}

/** Closed loop: `connections` clients each send their next request when the last one answered. */
async function closedLoop(job: HttpJob): Promise<HttpResult> {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, { connections: job.connections, pipelining: 1 });
  const op = operation(job.op, { seededUsers: job.seededUsers, runId: `${prefix}${++jobs}` });
  const latencies: number[] = [];
  const problems: string[] = [];
  let errors = 0;
  let measuring = false;
  let stopped = false;
  const client = async (worker: number) => {
    for (let seq = 0; !stopped; seq++) {
      const body = JSON.stringify(op.make(worker, seq));
      const started = performance.now();
      let problem: string | null;
      try {
        const { status, json } = await post(pool, url.pathname, body);
        problem = status === 200 ? op.check(json) : `HTTP ${status}: ${JSON.stringify(json).slice(0, 200)}`;
      } catch (error) {
        problem = String(error);
      }
      if (!measuring) continue;
      if (problem === null) latencies.push(performance.now() - started);
      else if (++errors <= 3) problems.push(problem);
    }
  };
  const clients = Array.from({ length: job.connections }, (_, i) => client(i));
  await delay(job.warmupMs);
  measuring = true;
  const started = performance.now();
  await delay(job.durationMs);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  stopped = true;
  await Promise.all(clients);
  await pool.close();
  return { ok: latencies.length, errors, problems, seconds, latencies };
}

/** Open loop: requests start on a fixed schedule whether or not earlier ones have answered. */
async function openLoop(job: RateJob): Promise<HttpResult & { positions: string[] }> {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, { connections: job.connections, pipelining: 1 });
  const op = operation(job.op, { seededUsers: job.seededUsers, runId: `${prefix}${++jobs}` });
  const latencies: number[] = [];
  const problems: string[] = [];
  const positions: string[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const send = (seq: number) => {
    const body = JSON.stringify(op.make(seq % 32, Math.floor(seq / 32)));
    const started = performance.now();
    const done = post(pool, url.pathname, body)
      .then(({ status, json }) => {
        const problem = status === 200 ? op.check(json) : `HTTP ${status}`;
        if (problem !== null) throw new Error(problem);
        latencies.push(performance.now() - started);
        const field = Object.values(json.data ?? {})[0] as { position?: string } | undefined;
        if (field?.position) positions.push(field.position);
      })
      .catch((error: unknown) => {
        if (++errors <= 3) problems.push(String(error));
      })
      .finally(() => inflight.delete(done));
    inflight.add(done);
  };
  const started = performance.now();
  let sent = 0;
  for (let elapsed = 0; elapsed < job.durationMs; elapsed = performance.now() - started) {
    const due = Math.floor((elapsed / 1000) * job.rate);
    while (sent < due) send(sent++);
    await delay(1);
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { ok: latencies.length, errors, problems, seconds, latencies, positions };
}

const SUBSCRIPTION = `subscription Events($after: String) { userEvents(after: $after) { __typename position userId version occurredAt } }`;

type Subscriber = { received: number; lastPosition: string; disorder: number; errors: number };

let subscribers: { clients: Client[]; state: Subscriber[]; latencies: number[]; problems: string[] } | undefined;

/** Opens `count` websocket clients, each with one `userEvents` subscription after `after`. */
async function subscribe(job: SubscribeJob): Promise<{ connected: number }> {
  const wsUrl = job.url.replace(/^http/, 'ws');
  const latencies: number[] = [];
  const problems: string[] = [];
  const clients: Client[] = [];
  const state: Subscriber[] = [];
  for (let batch = 0; batch < job.count; batch += 100) {
    const opened: Promise<void>[] = [];
    for (let i = batch; i < Math.min(job.count, batch + 100); i++) {
      const own: Subscriber = { received: 0, lastPosition: orderKey(job.after), disorder: 0, errors: 0 };
      state.push(own);
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
      clients.push(client);
      opened.push(new Promise((resolve) => client.on('connected', () => resolve())));
      client.subscribe<{ userEvents: { position: string; occurredAt: string } }>(
        { query: SUBSCRIPTION, variables: { after: job.after } },
        {
          next: ({ data, errors }) => {
            if (errors || !data) {
              if (++own.errors <= 1 && problems.length < 3) problems.push(JSON.stringify(errors).slice(0, 200));
              return;
            }
            latencies.push(Date.now() - Date.parse(data.userEvents.occurredAt));
            const position = orderKey(data.userEvents.position);
            if (position <= own.lastPosition) own.disorder += 1;
            own.lastPosition = position;
            own.received += 1;
          },
          error: (error) => {
            own.errors += 1;
            if (problems.length < 3) problems.push(String(error));
          },
          complete: () => {},
        },
      );
    }
    await Promise.all(opened);
  }
  subscribers = { clients, state, latencies, problems };
  return { connected: clients.length };
}

/** Waits until every subscriber has the events the driver appended (or `graceMs` passes), then reports. */
async function finish(expected: number, lastPosition: string, graceMs: number): Promise<SubscriberResult> {
  const subs = subscribers!;
  const last = orderKey(lastPosition);
  const deadline = performance.now() + graceMs;
  while (subs.state.some((s) => s.lastPosition < last) && performance.now() < deadline) await delay(20);
  const received = subs.state.reduce((sum, s) => sum + s.received, 0);
  const result: SubscriberResult = {
    subscribers: subs.state.length,
    expectedEach: expected,
    lost: expected * subs.state.length - received,
    outOfOrder: subs.state.reduce((sum, s) => sum + s.disorder, 0),
    errors: subs.state.reduce((sum, s) => sum + s.errors, 0),
    problems: subs.problems,
    latency: summarize(subs.latencies),
  };
  await Promise.all(subs.clients.map((client) => client.dispose()));
  subscribers = undefined;
  return result;
}

process.on('message', (message: { id: number; job: Job }) => {
  const { id, job } = message;
  const run = async () => {
    switch (job.type) {
      case 'http':
        return closedLoop(job);
      case 'rate':
        return openLoop(job);
      case 'subscribe':
        return subscribe(job);
      case 'finish':
        return finish(job.expected, job.lastPosition, job.graceMs);
    }
  };
  run().then(
    (result) => process.send!({ id, result }),
    (error: unknown) => process.send!({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
