import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandMiddleware } from '../kernel/command-bus.js';
import type { EventStore, IdempotencyRecords } from '../kernel/event-store.js';
import type { ProjectionStatus, Projector } from '../kernel/projector.js';
import type { QueryMiddleware } from '../kernel/query-bus.js';
import { acceptsMultipartSubscriptions } from './multipart-subscriptions.js';
import { createFanOutMetrics, type FanOutMetrics } from './fanout-metrics.js';
import type { CacheStats } from './response-cache/tagged-cache.js';

/**
 * Prometheus metrics of one server instance. Each server has its own
 * registry (never prom-client's global one), so tests can run several
 * servers in one process and read each one's numbers alone.
 */
export type Metrics = Readonly<{
  registry: Registry;
  /** Outermost command-bus step: counts and times every command by type and outcome. */
  commands: CommandMiddleware;
  queries: QueryMiddleware;
  /** The store, counting the events each successful append wrote. */
  countAppends: (store: EventStore) => EventStore;
  /** Projection lag, checkpoint and failing state, read from the projector at scrape time. */
  observeProjector: (projector: Projector) => void;
  /** Kept by the `useMetrics` plugin, which sees subscriptions of every transport. */
  subscriptions: Gauge<'transport'>;
  /** Counts what the idempotency pruner deleted (src/kernel/idempotency-pruner.ts). */
  idempotencyRecordsPruned: (count: number) => void;
  /** Age of the oldest idempotency record, read from the store at scrape time. */
  observeIdempotencyRecords: (records: Pick<IdempotencyRecords, 'oldestIdempotencyRecordAt'>) => void;
  /** Kept by the websocket fan-out (subscription-fanout.ts). */
  fanOut: FanOutMetrics;
  /** The response cache's counters and size, read at scrape time. */
  observeResponseCache: (cache: Readonly<{ stats: () => CacheStats }>) => void;
}>;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const eventsAppended = new Counter({
    name: 'cqrs_events_appended_total',
    help: 'Events written to the event store by this server, by event type.',
    labelNames: ['event_type'] as const,
    registers,
  });
  const measureCommand = outcomeMetrics(registry, 'command', 'Time from the command bus receiving a command to its outcome.');
  const measureQuery = outcomeMetrics(registry, 'query', 'Time the query bus took to answer a query.');

  const commands: CommandMiddleware = (envelope, _registration, next) =>
    measureCommand(envelope.command.type, () => next(envelope), (result) => (result.ok ? 'success' : result.error.type));
  const queries: QueryMiddleware = (query, next) =>
    measureQuery(query.type, () => next(query), (result) => rejectionType(result) ?? 'success');

  const countAppends = (store: EventStore): EventStore => ({
    ...store,
    append: async (request) => {
      const appended = await store.append(request);
      if (appended.ok) for (const event of appended.value.events) eventsAppended.inc({ event_type: event.type });
      return appended;
    },
  });

  const observeProjector = (projector: Projector) => {
    const gauges: [name: string, help: string, pick: (status: ProjectionStatus) => number | undefined][] = [
      ['cqrs_projection_lag_events', 'Events in the store a projection has not applied yet.', (status) => status.lag],
      [
        'cqrs_projection_checkpoint',
        'Sequence number of the last event a projection applied (the N of sqlite:N, the sequence of pg:xid.sequence).',
        (status) => sequenceOf(status.position),
      ],
      [
        'cqrs_projection_halted',
        '1 while a projection is halted on an event it kept failing (see /health haltedAt), else 0.',
        (status) => (status.state === 'halted' ? 1 : 0),
      ],
      [
        'cqrs_projection_leader',
        '1 on the instance that runs the projection, 0 on instances that only follow its checkpoint.',
        (status) => (status.leader ? 1 : 0),
      ],
      [
        'cqrs_projection_failing',
        '1 while a projection is failing and retrying (its last batch threw), else 0.',
        (status) => (status.lastError === null ? 0 : 1),
      ],
      ...buildGauges,
    ];
    // The registry collects every gauge at once: they share one status read (and its head query) per scrape.
    let reading: Promise<readonly ProjectionStatus[]> | undefined;
    const statusOfScrape = () =>
      (reading ??= projector.status().finally(() => {
        reading = undefined;
      }));
    for (const [name, help, pick] of gauges) {
      new Gauge({
        name,
        help,
        labelNames: ['projection'] as const,
        registers,
        async collect() {
          this.reset();
          for (const status of await statusOfScrape()) {
            const value = pick(status);
            if (value !== undefined) this.set({ projection: status.name }, value);
          }
        },
      });
    }
  };

  const subscriptions = new Gauge({
    name: 'cqrs_subscriptions_active',
    help: 'GraphQL subscriptions currently streaming, by transport (ws, sse, multipart).',
    labelNames: ['transport'] as const,
    registers,
  });
  for (const transport of ['ws', 'sse', 'multipart']) subscriptions.set({ transport }, 0);

  const { idempotencyRecordsPruned, observeIdempotencyRecords } = idempotencyMetrics(registers);

  const observeResponseCache = (cache: Readonly<{ stats: () => CacheStats }>) => {
    const counters: [name: string, help: string, pick: (stats: CacheStats) => number][] = [
      ['cqrs_response_cache_hits_total', 'Query answers served from the response cache.', (stats) => stats.hits],
      ['cqrs_response_cache_misses_total', 'Cacheable query answers that had to be computed.', (stats) => stats.misses],
      ['cqrs_response_cache_declined_total', 'Misses not kept: asked no more often lately than the answer they would displace, while the cache was nearly full.', (stats) => stats.declined],
      ['cqrs_response_cache_evictions_total', 'Answers dropped to keep the cache within RESPONSE_CACHE_MAX_BYTES.', (stats) => stats.evictions],
      ['cqrs_response_cache_invalidations_total', 'Answers dropped because a projection changed something they read.', (stats) => stats.invalidations],
    ];
    for (const [name, help, pick] of counters) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(pick(cache.stats()));
        },
      });
    }
    new Gauge({ name: 'cqrs_response_cache_bytes', help: 'Estimated memory the cached answers hold.', registers, collect() {
      this.set(cache.stats().bytes);
    } });
    new Gauge({ name: 'cqrs_response_cache_entries', help: 'Answers in the response cache.', registers, collect() {
      this.set(cache.stats().entries);
    } });
  };

  return {
    registry,
    commands,
    queries,
    countAppends,
    observeProjector,
    subscriptions,
    idempotencyRecordsPruned,
    observeIdempotencyRecords,
    fanOut: createFanOutMetrics(registry),
    observeResponseCache,
  };
}

/**
 * Whether pruning keeps up: the oldest record's age stays about one retention
 * window (plus a pruning interval) when it does, and grows when it does not.
 * Its age rather than a row count, which would scan the table at every scrape.
 */
function idempotencyMetrics(registers: Registry[]) {
  const pruned = new Counter({
    name: 'cqrs_idempotency_records_pruned_total',
    help: 'Expired idempotency records deleted by this server.',
    registers,
  });
  return {
    idempotencyRecordsPruned: (count: number) => pruned.inc(count),
    observeIdempotencyRecords: (records: Pick<IdempotencyRecords, 'oldestIdempotencyRecordAt'>) => {
      new Gauge({
        name: 'cqrs_idempotency_oldest_record_age_seconds',
        help: 'Age of the oldest idempotency record stored (0 when none): about IDEMPOTENCY_RETENTION_SECONDS while pruning keeps up.',
        registers,
        async collect() {
          const oldest = await records.oldestIdempotencyRecordAt();
          this.set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest.getTime()) / 1000));
        },
      });
    },
  };
}

/**
 * A counter and a latency histogram of one kind of message, labelled by its
 * type and outcome: `success`, the rejection's type, or `error` when it threw.
 */
function outcomeMetrics(registry: Registry, kind: 'command' | 'query', durationHelp: string) {
  const labelNames = [kind, 'outcome'] as const;
  const plural = kind === 'query' ? 'queries' : 'commands';
  const total = new Counter({
    name: `cqrs_${plural}_total`,
    help: `Handled ${plural}, by ${kind} type and outcome (success, the rejection type, or error).`,
    labelNames,
    registers: [registry],
  });
  const seconds = new Histogram({ name: `cqrs_${kind}_duration_seconds`, help: durationHelp, labelNames, buckets: SECONDS, registers: [registry] });
  return async <T>(type: string, run: () => Promise<T>, outcomeOf: (result: T) => string): Promise<T> => {
    const stop = seconds.startTimer();
    let outcome = 'error';
    try {
      const result = await run();
      outcome = outcomeOf(result);
      return result;
    } finally {
      const labels = { [kind]: type, outcome } as Record<(typeof labelNames)[number], string>;
      stop(labels);
      total.inc(labels);
    }
  };
}

/** `/metrics` in the Prometheus text format: this server's metrics and the process's. */
export function useMetrics({ metrics, path = '/metrics' }: { metrics: Metrics; /** @default '/metrics' */ path?: string }): Plugin {
  const { subscriptions } = metrics;
  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (url.pathname !== path || request.method !== 'GET') return;
      const registry = Registry.merge([processRegistry(), metrics.registry]);
      endResponse(
        new fetchAPI.Response(await registry.metrics(), {
          headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
        }),
      );
    },
    // Counts subscriptions that really stream: a subscribe that fails (bad `after`) yields no iterable,
    // and one no transport delivers (yoga's 406) is never read from.
    onSubscribe: () => ({
      onSubscribeResult: ({ args, result, setResult }) => {
        if (isAsyncIterable(result)) setResult(counted(result, subscriptions, { transport: transportOf(args.contextValue) }));
      },
    }),
  };
}

/**
 * Up from the first `next()` (a transport started delivering it), down once
 * however it ends: done, an error from the source, or the client going away
 * (`return`). A stream ended before anyone read it (yoga's 406) is never
 * counted. Envelop's own `onEnd` misses the error case. Not an async
 * generator: its `return()` would queue behind the pending `next()` and wait
 * for the next event, instead of reaching the feed at once.
 */
function counted<T>(source: AsyncIterable<T>, gauge: Gauge<'transport'>, labels: { transport: string }): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let state: 'unread' | 'delivering' | 'ended' = 'unread';
  const end = () => {
    if (state === 'delivering') gauge.dec(labels);
    state = 'ended';
  };
  const settle = (step: Promise<IteratorResult<T>>) =>
    step.then(
      (result) => {
        if (result.done) end();
        return result;
      },
      (error: unknown) => {
        end();
        throw error;
      },
    );
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => {
      if (state === 'unread') {
        state = 'delivering';
        gauge.inc(labels);
      }
      return settle(iterator.next());
    },
    return: (value?: unknown) => {
      end();
      return iterator.return ? settle(iterator.return(value)) : Promise.resolve({ done: true, value: undefined as T });
    },
    throw: (error?: unknown) => (iterator.throw ? settle(iterator.throw(error)) : Promise.reject(error as Error)),
  };
}

/**
 * graphql-ws operations carry the socket in their context (websocket.ts). Over HTTP a
 * subscription that is delivered at all is Apollo's multipart, when its Accept asked for
 * that (multipart-subscriptions.ts), or else SSE: yoga streams no other format (it answers
 * 406, and such a stream is never counted), whatever else the Accept header allows (any type, say).
 */
function transportOf(context: unknown): 'ws' | 'sse' | 'multipart' {
  const { socket, request } = context as { socket?: unknown; request?: Request };
  if (socket !== undefined) return 'ws';
  return request && acceptsMultipartSubscriptions(request) ? 'multipart' : 'sse';
}

/** Query handlers answer expected failures as a `Result`; its rejection type is the outcome. */
function rejectionType(result: unknown): string | undefined {
  const candidate = result as { ok?: unknown; error?: { type?: unknown } } | null;
  return candidate?.ok === false && typeof candidate.error?.type === 'string' ? candidate.error.type : undefined;
}

/** Blue/green builds (README: Rebuilds and new projections); only projections that can build beside have these. */
const buildGauges: [name: string, help: string, pick: (status: ProjectionStatus) => number | undefined][] = [
  ['cqrs_projection_version', 'Version of the projection code that built the live read model.', (status) => status.version ?? undefined],
  [
    'cqrs_projection_build_state',
    '0 while the live read model is the only one, 1 while a new one is being built beside it, 2 while it is switching in.',
    (status) => (status.build === undefined ? undefined : status.build === null ? 0 : status.build.state === 'building' ? 1 : 2),
  ],
  ['cqrs_projection_build_applied_events', 'Events the build beside the live read model has applied.', (status) => status.build?.applied],
  ['cqrs_projection_build_total_events', 'Events in the log when the build last looked (estimate): what it must apply before it switches.', (status) => status.build?.total],
  ['cqrs_projection_build_events_per_second', 'Events per second the build has applied since it started.', (status) => status.build?.eventsPerSecond],
  ['cqrs_projection_build_position', "Sequence number of the build's checkpoint (as cqrs_projection_checkpoint).", (status) => (status.build ? sequenceOf(status.build.position) : undefined)],
];

/** Positions are opaque to the kernel; a gauge can only show ones that are numbers. */
/** Positions are opaque, but both stores end theirs in a sequence number, which is what a graph can show. */
function sequenceOf(position: string): number | undefined {
  const digits = /(?:^|[:.])(\d{1,15})$/.exec(position)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

let defaults: Registry | undefined;

/**
 * Memory, CPU, event-loop lag and GC belong to the process, not to one
 * server: collected once per process (prom-client's collectors install
 * observers that are never removed), and served by every server in it.
 */
function processRegistry(): Registry {
  if (!defaults) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
  }
  return defaults;
}
