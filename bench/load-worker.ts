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
import { cpuSecondsOf } from './proc.js';
import { summarize } from './stats.js';
import type { HttpJob, HttpResult, Job, RateJob, StalledResult, SubscribeJob, SubscriberResult } from './load.js';
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
  const cpuBefore = job.serverPid === undefined ? NaN : cpuSecondsOf(job.serverPid);
  await delay(job.durationMs);
  measuring = false;
  const serverCpuSeconds = job.serverPid === undefined ? undefined : cpuSecondsOf(job.serverPid) - cpuBefore;
  const seconds = (performance.now() - started) / 1000;
  stopped = true;
  await Promise.all(clients);
  await pool.close();
  return { ok: latencies.length, errors, problems, seconds, latencies, ...(serverCpuSeconds === undefined ? {} : { serverCpuSeconds }) };
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

const BULK = Array.from({ length: 100 }, (_, i) => `a${i}: occurredAt`).join(' ');

/** Operation `variant` of `operations`: the same fields, but a document of its own (one cohort each in the server). */
function subscriptionQuery(variant: number, selection: SubscribeJob['selection']): string {
  const extra = `${variant > 0 ? ` v${variant}: version` : ''}${selection === 'bulky' ? ` ${BULK}` : ''}`;
  return `subscription Events($after: String) { userEvents(after: $after) { __typename position userId version occurredAt${extra} } }`;
}

type Subscriber = { received: number; lastPosition: string; disorder: number; errors: number };

/** A raw graphql-transport-ws socket that subscribed and then stopped reading. */
type Stalled = { socket: WebSocket; frames: Frames; query: string; url: string; after: string };

/**
 * A connection's frames, parsed once as they arrive: the positions of each
 * subscription's `next` frames, and the frame that ended each one. (Parsing
 * every frame again at each poll took the load process longer than the
 * 30 s grace with 100 sockets of ~760 frames each.)
 */
type Frames = { acknowledged: boolean; positions: Map<string, string[]>; ends: Map<string, Frame> };

const noFrames = (): Frames => ({ acknowledged: false, positions: new Map(), ends: new Map() });

function record(frames: Frames, text: string): void {
  const frame = JSON.parse(text) as Frame;
  if (frame.type === 'connection_ack') frames.acknowledged = true;
  else if (frame.id !== undefined && frame.type === 'next') {
    const list = frames.positions.get(frame.id) ?? [];
    list.push(frame.payload!.data!.userEvents.position);
    frames.positions.set(frame.id, list);
  } else if (frame.id !== undefined && !frames.ends.has(frame.id)) frames.ends.set(frame.id, frame);
}

let subscribers: { clients: Client[]; state: Subscriber[]; latencies: number[]; problems: string[]; stalled: Stalled[] } | undefined;

/** A raw graphql-transport-ws connection, acknowledged, its frames recorded into `frames`. */
async function openRaw(url: string, frames: Frames): Promise<WebSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  socket.on('message', (data) => record(frames, String(data)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init' }));
  while (!frames.acknowledged) await delay(5);
  return socket;
}

async function openStalled(url: string, query: string, after: string): Promise<Stalled> {
  const frames = noFrames();
  const socket = await openRaw(url, frames);
  socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query, variables: { after } } }));
  // Reads nothing more until `finish`: the server's writes pile up in the kernel, then in its own buffer.
  socket.pause();
  return { socket, frames, query, url, after };
}

type Frame = { id?: string; type: string; payload?: { data?: { userEvents: { position: string } } } & [{ extensions?: { after?: string } }] };

/**
 * Lets each stalled socket read again; those cut off resubscribe after the
 * position they were given, and again after every later cut, as the README
 * asks of clients (a resumed subscriber catching up beside the others can
 * fall behind them by more than the limit too).
 */
async function resumeStalled(stalled: readonly Stalled[], positions: readonly string[], graceMs: number): Promise<StalledResult> {
  const wanted = [...positions].sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : 1));
  const last = wanted.at(-1);
  const problems: string[] = [];
  let cut = 0;
  let complete = 0;
  let reconnected = 0;
  let recut = 0;
  const positionsOf = (one: Stalled, id: string) => one.frames.positions.get(id) ?? [];
  await Promise.all(
    stalled.map(async (one) => {
      one.socket.resume();
      const deadline = performance.now() + graceMs;
      let id = 's';
      let seen: string[] = [];
      for (let round = 0; ; round++) {
        const ended = () => one.frames.ends.get(id);
        while (!ended() && positionsOf(one, id).at(-1) !== last && one.socket.readyState === WebSocket.OPEN && performance.now() < deadline) await delay(20);
        const end = ended();
        seen = [...seen, ...positionsOf(one, id)];
        let after: string | undefined;
        if (end?.type === 'error') {
          if (round === 0) cut += 1;
          else recut += 1;
          after = end.payload?.[0]?.extensions?.after;
          if (after === undefined) {
            if (problems.length < 3) problems.push(`an error frame without extensions.after: ${JSON.stringify(end)}`);
            return;
          }
        }
        // The server's keepalive drops a connection that answers no ping for a while: a client then reconnects and resumes after the last event it got.
        const closed = one.socket.readyState !== WebSocket.OPEN;
        if (closed && end === undefined) after = seen.at(-1) ?? one.after;
        if (after === undefined || seen.at(-1) === last || performance.now() >= deadline) break;
        if (closed) {
          reconnected += 1;
          one.frames.acknowledged = false;
          one.socket = await openRaw(one.url, one.frames);
        }
        // Each resubscription's frames are recorded under an id of its own: 'r1', 'r2', …
        id = `r${round + 1}`;
        one.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: one.query, variables: { after } } }));
      }
      if (seen.length === wanted.length && seen.every((position, i) => position === wanted[i])) complete += 1;
      else if (problems.length < 3) problems.push(`a stalled subscriber got ${seen.length} of ${wanted.length} events (first missing or extra near ${seen.find((p, i) => p !== wanted[i])})`);
    }),
  );
  for (const one of stalled) one.socket.close();
  return { count: stalled.length, cut, complete, reconnected, recut, problems };
}

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
        { query: subscriptionQuery(i % (job.operations ?? 1), job.selection), variables: { after: job.after } },
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
  const stalled: Stalled[] = [];
  for (let i = 0; i < (job.stalled ?? 0); i++) stalled.push(await openStalled(wsUrl, subscriptionQuery(0, job.selection), job.after));
  subscribers = { clients, state, latencies, problems, stalled };
  return { connected: clients.length + stalled.length };
}

/** Waits until every subscriber has the events the driver appended (or `graceMs` passes), then reports. */
async function finish(expected: number, lastPosition: string, graceMs: number, positions: readonly string[] = []): Promise<SubscriberResult> {
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
    ...(subs.stalled.length > 0 ? { stalled: await resumeStalled(subs.stalled, positions, graceMs) } : {}),
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
        return finish(job.expected, job.lastPosition, job.graceMs, job.positions);
    }
  };
  run().then(
    (result) => process.send!({ id, result }),
    (error: unknown) => process.send!({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
