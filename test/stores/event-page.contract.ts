/**
 * Conformance of `EventLog.readPage`, and of history paging built on it
 * (`ReadEventPage`, which `User.history` and the `events` audit feed ask),
 * for every adapter: run from describeEventStoreContract with its factory.
 * The paging property checks every answer against a plain reference: the
 * Relay Cursor Connections algorithm over the selected events in log order.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventPage, registerEventPageQuery, type EventConnection, type EventPageArgs, type EventPageFilter } from '../../src/kernel/event-page.js';
import type { EventStore, NewEvent, ReadPageOptions } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { createQueryBus, createRequestScope, type QueryBus } from '../../src/kernel/query-bus.js';
import { waitUntil } from '../support/wait.js';
import type { StoreFactory } from './event-store.contract.js';

/** Runs of the property per store (small for CI on 2 cores); PROPERTY_RUNS=1000 hunts longer. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 40);

const event = (type: string, n: number): NewEvent => ({ type, data: { n }, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });

/** What readPage must return: the selection between the bounds, nearest the starting bound first. */
function referencePage(log: readonly StoredEvent[], { direction, limit, after, before, streamId, types }: ReadPageOptions): StoredEvent[] {
  const between = log.filter(
    (e) =>
      (after === undefined || e.position > after) &&
      (before === undefined || e.position < before) &&
      (streamId === undefined || e.streamId === streamId) &&
      (types === undefined || types.includes(e.type)),
  );
  return (direction === 'forward' ? between : between.reverse()).slice(0, limit);
}

/**
 * Relay's ApplyCursorsToEdges, EdgesToReturn and PageInfo over the selected
 * events; where the spec leaves the flag facing away from the paging
 * direction to the server, it says whether any selected event lies at or
 * beyond that cursor (as `users` does, src/kernel/keyset-page.ts).
 */
function referenceConnection(selected: readonly StoredEvent[], args: EventPageArgs, positionOf: (cursor: string) => Position, cursorOf: (p: Position) => string) {
  const after = args.after == null ? undefined : positionOf(args.after);
  const before = args.before == null ? undefined : positionOf(args.before);
  let edges = selected.filter((e) => (after === undefined || e.position > after) && (before === undefined || e.position < before));
  const first = args.first ?? (args.last == null ? 20 : undefined);
  let hasNextPage = first != null && edges.length > first;
  if (first != null) edges = edges.slice(0, first);
  let hasPreviousPage = args.last != null && edges.length > args.last;
  if (args.last != null) edges = edges.slice(Math.max(0, edges.length - args.last));
  if (after !== undefined && selected.some((e) => e.position <= after)) hasPreviousPage = true;
  if (before !== undefined && selected.some((e) => e.position >= before)) hasNextPage = true;
  const cursors = edges.map((e) => cursorOf(e.position));
  return {
    edges: edges.map((node, i) => ({ cursor: cursors[i]!, node })),
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: cursors[0] ?? null, endCursor: cursors.at(-1) ?? null },
  };
}

/** A data set: events appended one append at a time, each to one of a few streams, of one of two types. */
type Plan = readonly Readonly<{ stream: number; type: number; count: number }>[];
type Selection = 'stream' | 'type' | 'streamAndType' | 'all';
type CursorChoice = Readonly<{ of: 'selected' | 'other'; index: number }> | undefined;

export function describeEventPageContract(adapterName: string, createStore: StoreFactory): void {
  describe(`EventLog.readPage and history paging: ${adapterName}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    let bus: QueryBus;
    let dataSets = 0;

    beforeAll(async () => {
      ({ store, cleanup } = await createStore());
      bus = createQueryBus();
      registerEventPageQuery({ queryBus: bus, eventLog: store, positions: store });
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const cursorOf = (position: Position) => store.formatPosition(position);
    const positionOf = (cursor: string) => {
      const parsed = store.parsePosition(cursor);
      if (!parsed.ok) throw new Error(`not a cursor: ${cursor}`);
      return parsed.value;
    };

    /** Appends the plan under a fresh tag (streams and types of its own) and returns every event of it, in log order, once readable. */
    async function load(plan: Plan): Promise<{ tag: string; events: StoredEvent[] }> {
      const tag = `p${(dataSets += 1)}`;
      const versions = new Map<string, number>();
      let n = 0;
      let last: Position = LOG_START;
      for (const { stream, type, count } of plan) {
        const streamId = `${tag}s${stream}`;
        const expectedVersion = versions.get(streamId) ?? 0;
        const result = await store.append({
          streamId,
          expectedVersion,
          events: Array.from({ length: count }, () => event(`${tag}T${type}`, (n += 1))),
        });
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        versions.set(streamId, result.value.version);
        last = result.value.position;
      }
      // PostgreSQL readers see an event once no older transaction on the server is still running.
      await waitUntil(async () => (await store.headPosition()) >= last, `${last} to become readable`);
      const events = await store.readPage({ direction: 'forward', limit: n + 1, types: [`${tag}T0`, `${tag}T1`] });
      expect(events).toHaveLength(n);
      return { tag, events: [...events] };
    }

    const filterOf = (tag: string, selection: Selection): EventPageFilter => {
      switch (selection) {
        case 'stream':
          return { streamId: `${tag}s0` };
        case 'type':
          return { types: [`${tag}T1`] };
        case 'streamAndType':
          return { streamId: `${tag}s0`, types: [`${tag}T0`] };
        case 'all':
          return { types: [`${tag}T0`, `${tag}T1`] };
      }
    };
    const selectedBy = (events: readonly StoredEvent[], filter: EventPageFilter) =>
      events.filter((e) => (filter.streamId === undefined || e.streamId === filter.streamId) && (filter.types === undefined || filter.types.includes(e.type)));

    const page = async (args: EventPageArgs, filter: EventPageFilter): Promise<EventConnection> => {
      const result = await bus.execute(readEventPage(args, filter), createRequestScope());
      if (!result.ok) throw new Error(`${JSON.stringify(args)} was refused: ${result.error.message}`);
      return result.value;
    };

    /** Every page from one end to the other, each checked against the reference; the events seen, joined in log order. */
    async function walk(selected: readonly StoredEvent[], filter: EventPageFilter, direction: 'forward' | 'backward', size: number) {
      const seen: StoredEvent[][] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages <= selected.length + 1; pages++) {
        const args: EventPageArgs = direction === 'forward' ? { first: size, after: cursor } : { last: size, before: cursor };
        const connection = await page(args, filter);
        expect(connection, JSON.stringify(args)).toEqual(referenceConnection(selected, args, positionOf, cursorOf));
        const nodes = connection.edges.map((edge) => edge.node);
        if (direction === 'forward') {
          seen.push(nodes);
          if (!connection.pageInfo.hasNextPage) return seen.flat();
          cursor = connection.pageInfo.endCursor;
        } else {
          seen.unshift(nodes);
          if (!connection.pageInfo.hasPreviousPage) return seen.flat();
          cursor = connection.pageInfo.startCursor;
        }
      }
      throw new Error(`a ${direction} walk at page size ${size} did not end`);
    }

    it('reads pages between exclusive bounds, nearest the starting bound first, by stream and by type', async () => {
      const { tag, events } = await load([
        { stream: 0, type: 0, count: 2 },
        { stream: 1, type: 1, count: 3 },
        { stream: 0, type: 1, count: 1 },
        { stream: 2, type: 0, count: 2 },
        { stream: 0, type: 0, count: 2 },
      ]);
      const types = [`${tag}T0`, `${tag}T1`];
      const cases: ReadPageOptions[] = [];
      const bounds = [undefined, LOG_START, events[0]!.position, events[4]!.position, events[5]!.position, events.at(-1)!.position];
      for (const direction of ['forward', 'backward'] as const) {
        for (const after of bounds) {
          for (const before of bounds) {
            for (const limit of [1, 3, 100]) {
              const bounded = { direction, limit, ...(after === undefined ? {} : { after }), ...(before === undefined ? {} : { before }) };
              cases.push({ ...bounded, types }, { ...bounded, streamId: `${tag}s0` }, { ...bounded, streamId: `${tag}s0`, types: [`${tag}T1`] }, { ...bounded, types: [`${tag}T0`] });
            }
          }
        }
      }
      for (const options of cases) expect(await store.readPage(options), JSON.stringify(options)).toEqual(referencePage(events, options));
      // Data and metadata come back as readAll gives them.
      expect(await store.readPage({ direction: 'forward', limit: 100, types })).toEqual(
        (await store.readAll({ after: LOG_START, limit: 1_000 })).filter((e) => types.includes(e.type)),
      );
    });

    it('finds nothing for a stream or types that hold no events, and nothing before the start of the log', async () => {
      await load([{ stream: 0, type: 0, count: 2 }]);
      expect(await store.readPage({ direction: 'forward', limit: 10, streamId: 'nobody' })).toEqual([]);
      expect(await store.readPage({ direction: 'backward', limit: 10, types: ['NoSuchType'] })).toEqual([]);
      expect(await store.readPage({ direction: 'forward', limit: 10, types: [] })).toEqual([]);
      expect(await store.readPage({ direction: 'backward', limit: 10, before: LOG_START })).toEqual([]);
      expect(await store.readPage({ direction: 'forward', limit: 0 })).toEqual([]);
    });

    it('refuses page requests it cannot answer, naming the argument, with the wording of a bad `after` elsewhere', async () => {
      const refused = async (args: EventPageArgs) => {
        const result = await bus.execute(readEventPage(args), createRequestScope());
        return result.ok ? 'answered' : `${result.error.argument}: ${result.error.message}`;
      };
      expect(await refused({ first: 101 })).toBe('first: "first" must be at most 100');
      expect(await refused({ last: 101 })).toBe('last: "last" must be at most 100');
      expect(await refused({ first: -1 })).toBe('first: "first" must not be negative');
      expect(await refused({ first: 1, last: 1 })).toBe('last: Pass either "first" or "last", not both');
      expect(await refused({ after: 'nowhere' })).toBe('after: "after" is not a position of this event store');
      expect(await refused({ before: 'nowhere' })).toBe('before: "before" is not a position of this event store');
      expect(await refused({ first: 100, after: '0' })).toBe('answered');
    });

    it('answers every page request as the Relay reference does, and every walk sees each selected event once', { timeout: Math.max(60_000, RUNS * 2_000) }, async () => {
      const plan = fc.array(fc.record({ stream: fc.integer({ min: 0, max: 2 }), type: fc.integer({ min: 0, max: 1 }), count: fc.integer({ min: 1, max: 4 }) }), {
        maxLength: 15,
      });
      const cursor: fc.Arbitrary<CursorChoice> = fc.oneof(
        fc.constant(undefined),
        fc.record({ of: fc.constant('selected' as const), index: fc.nat() }),
        fc.record({ of: fc.constant('other' as const), index: fc.nat() }),
      );
      const request = fc.record({
        count: fc.oneof(
          { weight: 1, arbitrary: fc.constant('default' as const) },
          { weight: 4, arbitrary: fc.record({ by: fc.constantFrom('first' as const, 'last' as const), size: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100 })) }) },
        ),
        after: cursor,
        before: cursor,
      });
      const selection = fc.constantFrom<Selection>('stream', 'type', 'streamAndType', 'all');
      await fc.assert(
        fc.asyncProperty(plan, selection, fc.array(request, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 12 }), async (planned, selected, requests, walkSize) => {
          const { tag, events } = await load(planned);
          const filter = filterOf(tag, selected);
          const chosen = selectedBy(events, filter);
          // Cursors of events outside the selection, and the start of the log: bounds like any other.
          const others = [LOG_START, ...events.filter((e) => !chosen.includes(e)).map((e) => e.position)];
          const pick = (choice: CursorChoice) => {
            if (choice === undefined) return null;
            if (choice.of === 'selected' && chosen.length > 0) return cursorOf(chosen[choice.index % chosen.length]!.position);
            return cursorOf(others[choice.index % others.length]!);
          };
          for (const { count, after, before } of requests) {
            const args: EventPageArgs = { ...(count === 'default' ? {} : { [count.by]: count.size }), after: pick(after), before: pick(before) };
            expect(await page(args, filter), JSON.stringify(args)).toEqual(referenceConnection(chosen, args, positionOf, cursorOf));
          }
          expect(await walk(chosen, filter, 'forward', walkSize)).toEqual(chosen);
          expect(await walk(chosen, filter, 'backward', walkSize)).toEqual(chosen);
        }),
        { numRuns: RUNS },
      );
    });
  });
}
