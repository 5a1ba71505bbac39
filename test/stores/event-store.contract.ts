/**
 * Conformance suite for EventStore adapters. Written only against the
 * interface in src/kernel/event-store.ts, so another adapter (PostgreSQL)
 * joins by calling `describeEventStoreContract` with its own factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendConflict, AppendRequest, Appended, EventStore, NewEvent, UniqueValue } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { Result } from '../../src/kernel/result.js';
import { waitUntil } from '../support/wait.js';
import { describeEventPageContract } from './event-page.contract.js';
import { describeDataKeysContract } from './data-keys.contract.js';

export type StoreFactory = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

const event = (type: string, data: object = {}, metadata: Partial<NewEvent['metadata']> = {}): NewEvent => ({
  type,
  data,
  metadata: { occurredAt: '2026-01-01T00:00:00.000Z', ...metadata },
});

const events = (n: number, prefix = 'Happened'): NewEvent[] =>
  Array.from({ length: n }, (_, i) => event(`${prefix}${i + 1}`, { n: i + 1 }));

function expectOk(result: Result<Appended, AppendConflict>): Appended {
  if (!result.ok) throw new Error(`expected the append to succeed, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function expectConflict<T extends AppendConflict['type']>(
  result: Result<Appended, AppendConflict>,
  type: T,
): Extract<AppendConflict, { type: T }> {
  if (result.ok) throw new Error(`expected ${type}, but the append succeeded at version ${result.value.version}`);
  expect(result.error.type).toBe(type);
  return result.error as Extract<AppendConflict, { type: T }>;
}

/** Every event in the store, read in pages, in global order. */
async function readEverything(store: EventStore, pageSize = 7): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let after = LOG_START;
  for (;;) {
    const page = await store.readAll({ after, limit: pageSize });
    all.push(...page);
    if (page.length < pageSize) return all;
    after = page[page.length - 1]!.position;
  }
}

/** Positions are opaque, but their text order is log order. */
function expectStrictlyIncreasing(positions: readonly Position[]): void {
  for (let i = 1; i < positions.length; i++) {
    expect(positions[i]! > positions[i - 1]!, `positions[${i}] ${positions[i]} after ${positions[i - 1]}`).toBe(true);
  }
}

/** Resolves at the listener's next call. */
function nextNotification(store: EventStore): { received: Promise<void>; unsubscribe: () => void } {
  let unsubscribe = () => {};
  const received = new Promise<void>((resolve) => {
    unsubscribe = store.onAppended(() => resolve());
  });
  return { received, unsubscribe };
}

export function describeEventStoreContract(adapterName: string, createStore: StoreFactory): void {
  // Paging the log (history, the audit feed) on one store per suite: its property test appends a lot.
  describeEventPageContract(adapterName, createStore);
  describeDataKeysContract(adapterName, createStore);
  describe(`EventStore contract: ${adapterName}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await createStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    /**
     * Appends, then waits until readers can see it. An event is visible once
     * no transaction that began before it is still running: at once on SQLite
     * (one writer), on PostgreSQL when concurrent transactions anywhere in the
     * cluster (other suites' databases too) have ended.
     */
    const append = async (request: Partial<AppendRequest> & Pick<AppendRequest, 'streamId'>) => {
      const result = await store.append({ expectedVersion: 0, events: [event('Happened')], ...request });
      if (result.ok) {
        const { position } = result.value;
        await waitUntil(async () => (await store.headPosition()) >= position, `${position} to become visible`);
      }
      return result;
    };

    describe('empty store', () => {
      it('has its head at the start, no events and empty streams', async () => {
        expect(await store.headPosition()).toBe(LOG_START);
        expect(await store.lastCommittedPosition()).toBe(LOG_START);
        expect(await store.readAll({ after: LOG_START, limit: 10 })).toEqual([]);
        expect(await store.readStream('nobody')).toEqual({ version: 0, events: [] });
        expect(await store.getIdempotencyRecord('no-such-key')).toBeNull();
      });
    });

    describe('append and read', () => {
      it('appends to a new stream with versions 1..n and increasing positions', async () => {
        const appended = expectOk(await append({ streamId: 's1', events: events(3) }));
        expect(appended.streamId).toBe('s1');
        expect(appended.version).toBe(3);
        expect(appended.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
        expectStrictlyIncreasing(appended.events.map((e) => e.position));
        expect(appended.events[0]!.position > LOG_START).toBe(true);
        expect(appended.position).toBe(appended.events[2]!.position);
        expect(await store.headPosition()).toBe(appended.position);
        expect(await store.lastCommittedPosition()).toBe(appended.position);
      });

      it('continues a stream from its version and keeps positions increasing across appends', async () => {
        const first = expectOk(await append({ streamId: 's1', events: events(2) }));
        const second = expectOk(await append({ streamId: 's1', expectedVersion: 2, events: events(2, 'Later') }));
        expect(second.version).toBe(4);
        expect(second.events.map((e) => e.streamVersion)).toEqual([3, 4]);
        expect(second.events[0]!.position > first.position).toBe(true);
      });

      it('reads a stream back in order with versions, as append returned it', async () => {
        const a = expectOk(await append({ streamId: 's1', events: events(2) }));
        expectOk(await append({ streamId: 'other', events: events(1) }));
        const b = expectOk(await append({ streamId: 's1', expectedVersion: 2, events: events(1, 'Later') }));
        const slice = await store.readStream('s1');
        expect(slice.version).toBe(3);
        expect(slice.events.map((e) => [e.type, e.streamVersion, e.streamId])).toEqual([
          ['Happened1', 1, 's1'],
          ['Happened2', 2, 's1'],
          ['Later1', 3, 's1'],
        ]);
        expect(slice.events).toEqual([...a.events, ...b.events]);
      });

      it('round-trips data, metadata and schema version as JSON', async () => {
        const data = {
          text: 'ünïcödé ✓ "quoted" \\ back\nslash',
          number: 12.5,
          negative: -3,
          flag: false,
          nothing: null,
          list: [1, 'two', { three: 3 }],
          nested: { deeper: { deepest: [] } },
        };
        const metadata = {
          occurredAt: '2026-02-03T04:05:06.789Z',
          commandId: 'cmd-1',
          correlationId: 'corr-1',
          idempotencyKey: 'key-1',
        };
        expectOk(await append({ streamId: 's1', events: [{ type: 'Rich', data, metadata, schemaVersion: 3 }] }));
        const [stored] = (await store.readStream('s1')).events;
        expect(stored).toMatchObject({ type: 'Rich', data, metadata, schemaVersion: 3, streamId: 's1', streamVersion: 1 });
        const [fromAll] = await store.readAll({ after: LOG_START, limit: 1 });
        expect(fromAll).toEqual(stored);
      });

      it('defaults the schema version to 1', async () => {
        expectOk(await append({ streamId: 's1' }));
        expect((await store.readStream('s1')).events[0]!.schemaVersion).toBe(1);
      });
    });

    describe('optimistic concurrency', () => {
      it('rejects a wrong expectedVersion with the actual version and appends nothing', async () => {
        expectOk(await append({ streamId: 's1', events: events(2) }));
        const head = await store.headPosition();
        for (const expectedVersion of [0, 1, 3, 10]) {
          const conflict = expectConflict(await append({ streamId: 's1', expectedVersion }), 'StreamVersionConflict');
          expect(conflict).toEqual({ type: 'StreamVersionConflict', streamId: 's1', expectedVersion, actualVersion: 2 });
        }
        expect((await store.readStream('s1')).version).toBe(2);
        expect(await store.headPosition()).toBe(head);
      });

      it('rejects expecting an existing version of a stream that does not exist', async () => {
        const conflict = expectConflict(await append({ streamId: 'missing', expectedVersion: 1 }), 'StreamVersionConflict');
        expect(conflict.actualVersion).toBe(0);
        expect(await store.headPosition()).toBe(LOG_START);
      });

      it('is atomic: a conflicting append of several events writes none of them', async () => {
        expectOk(await append({ streamId: 's1', events: events(1) }));
        const head = await store.headPosition();
        expectConflict(await append({ streamId: 's1', expectedVersion: 0, events: events(5, 'Lost') }), 'StreamVersionConflict');
        const all = await readEverything(store);
        expect(all.map((e) => e.type)).toEqual(['Happened1']);
        expect(await store.headPosition()).toBe(head);
        expect(await store.lastCommittedPosition()).toBe(head);
        // The next successful append is not disturbed by the failed one.
        const next = expectOk(await append({ streamId: 's1', expectedVersion: 1, events: events(2, 'Kept') }));
        expect(next.events.map((e) => e.streamVersion)).toEqual([2, 3]);
      });

      it('lets exactly one of 20 concurrent appends to a new stream win', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => append({ streamId: 'contested', events: [event('Won', { by: i })] })),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        for (const result of results.filter((r) => !r.ok)) {
          expect(expectConflict(result, 'StreamVersionConflict').actualVersion).toBe(1);
        }
        const slice = await store.readStream('contested');
        expect(slice.version).toBe(1);
        expect(slice.events).toEqual(expectOk(winners[0]!).events);
      });

      it('gives concurrent appends to different streams unique positions, all visible once in order', async () => {
        const streams = 25;
        const perStream = 4;
        await Promise.all(
          Array.from({ length: streams }, async (_, s) => {
            for (let v = 0; v < perStream; v++) {
              expectOk(await append({ streamId: `stream-${s}`, expectedVersion: v, events: [event('Step', { s, v })] }));
            }
          }),
        );
        const all = await readEverything(store, 9);
        expect(all).toHaveLength(streams * perStream);
        const positions = all.map((e) => e.position);
        expect(new Set(positions).size).toBe(positions.length);
        expectStrictlyIncreasing(positions);
        expect(await store.headPosition()).toBe(positions.at(-1));
        for (let s = 0; s < streams; s++) {
          const slice = await store.readStream(`stream-${s}`);
          expect(slice.events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4]);
          expect(slice.events.map((e) => (e.data as { v: number }).v)).toEqual([0, 1, 2, 3]);
        }
      });
      it('gives each of many concurrent appends its own outcome: conflicts undo only their own writes', async () => {
        expectOk(await append({ streamId: 'taken', expectedVersion: 0, events: [event('Created')], claims: [{ scope: 's', value: 'held' }] }));
        // Issued together, so a store that groups commits puts them in one transaction.
        const outcomes = await Promise.all([
          append({ streamId: 'a', expectedVersion: 0, events: events(2) }),
          append({ streamId: 'taken', expectedVersion: 0, events: [event('Again')] }),
          append({ streamId: 'b', expectedVersion: 0, events: [event('B')], claims: [{ scope: 's', value: 'held' }] }),
          append({ streamId: 'c', expectedVersion: 0, events: [event('C')], claims: [{ scope: 's', value: 'free' }] }),
          append({ streamId: 'a', expectedVersion: 0, events: [event('Twice')] }),
        ]);
        expect(expectOk(outcomes[0]!).version).toBe(2);
        expect(expectConflict(outcomes[1]!, 'StreamVersionConflict').actualVersion).toBe(1);
        expect(expectConflict(outcomes[2]!, 'UniqueValueTaken').ownerStreamId).toBe('taken');
        expect(expectOk(outcomes[3]!).version).toBe(1);
        expect(expectConflict(outcomes[4]!, 'StreamVersionConflict').actualVersion).toBe(2);
        const all = await readEverything(store);
        expect(all.map((e) => `${e.streamId}:${e.type}`)).toEqual(['taken:Created', 'a:Happened1', 'a:Happened2', 'c:C']);
        expectStrictlyIncreasing(all.map((e) => e.position));
        expect((await store.readStream('b')).version).toBe(0);
        // The free value was claimed by c and nothing else.
        expectConflict(await append({ streamId: 'd', expectedVersion: 0, events: [event('D')], claims: [{ scope: 's', value: 'free' }] }), 'UniqueValueTaken');
      });
    });

    describe('readStreamFrom', () => {
      it('reads one stream from a version on, in version order, at most `limit` events', async () => {
        expectOk(await append({ streamId: 's1', events: events(5) }));
        expectOk(await append({ streamId: 'other', events: events(2) }));
        expectOk(await append({ streamId: 's1', expectedVersion: 5, events: events(2, 'Later') }));
        const whole = (await store.readStream('s1')).events;

        expect(await store.readStreamFrom('s1', { fromVersion: 1, limit: 100 })).toEqual(whole);
        const middle = await store.readStreamFrom('s1', { fromVersion: 4, limit: 3 });
        expect(middle.map((e) => e.streamVersion)).toEqual([4, 5, 6]);
        expect(middle).toEqual(whole.slice(3, 6));
        expect((await store.readStreamFrom('s1', { fromVersion: 6, limit: 100 })).map((e) => e.type)).toEqual(['Later1', 'Later2']);
      });

      it('reads nothing past the end, from a stream that does not exist, or with a limit of 0', async () => {
        expectOk(await append({ streamId: 's1', events: events(3) }));
        expect(await store.readStreamFrom('s1', { fromVersion: 4, limit: 10 })).toEqual([]);
        expect(await store.readStreamFrom('nobody', { fromVersion: 1, limit: 10 })).toEqual([]);
        expect(await store.readStreamFrom('s1', { fromVersion: 1, limit: 0 })).toEqual([]);
      });

      it('answers reads asked at the same moment each with its own range (a store may ask them together)', async () => {
        expectOk(await append({ streamId: 's1', events: events(5) }));
        expectOk(await append({ streamId: 's2', events: events(3, 'Other') }));
        const [whole1, whole2] = [(await store.readStream('s1')).events, (await store.readStream('s2')).events];
        const asked = [
          ['s1', 2, 2],
          ['s2', 1, 10],
          ['s1', 1, 5],
          ['nobody', 1, 10],
          ['s1', 5, 0],
          ['s2', 3, 1],
        ] as const;
        const answers = await Promise.all(asked.map(([streamId, fromVersion, limit]) => store.readStreamFrom(streamId, { fromVersion, limit })));
        expect(answers).toEqual([whole1.slice(1, 3), whole2, whole1, [], [], whole2.slice(2, 3)]);
      });
    });

    describe('readAll', () => {
      async function interleave(): Promise<StoredEvent[]> {
        const order: StoredEvent[] = [];
        const versions = new Map<string, number>();
        for (const [streamId, count] of [['a', 2], ['b', 1], ['c', 3], ['a', 1], ['b', 2], ['c', 1]] as const) {
          const expectedVersion = versions.get(streamId) ?? 0;
          const appended = expectOk(await append({ streamId, expectedVersion, events: events(count, `${streamId}-`) }));
          versions.set(streamId, appended.version);
          order.push(...appended.events);
        }
        return order;
      }

      it('pages through several streams in global order with after/limit', async () => {
        const written = await interleave();
        const firstPage = await store.readAll({ after: LOG_START, limit: 4 });
        expect(firstPage).toEqual(written.slice(0, 4));
        const secondPage = await store.readAll({ after: firstPage[3]!.position, limit: 4 });
        expect(secondPage).toEqual(written.slice(4, 8));
        const rest = await store.readAll({ after: secondPage[3]!.position, limit: 4 });
        expect(rest).toEqual(written.slice(8));
        expect(await store.readAll({ after: written.at(-1)!.position, limit: 4 })).toEqual([]);
        expect(await readEverything(store, 1)).toEqual(written);
        expect(await readEverything(store, 100)).toEqual(written);
      });

      it('treats after as exclusive, also from the middle of a batch', async () => {
        const written = await interleave();
        const page = await store.readAll({ after: written[5]!.position, limit: 2 });
        expect(page).toEqual(written.slice(6, 8));
      });

      it('filters by stream, still in global order and honouring after/limit', async () => {
        const written = await interleave();
        const ofC = written.filter((e) => e.streamId === 'c');
        expect(await store.readAll({ after: LOG_START, limit: 100, streamId: 'c' })).toEqual(ofC);
        expect(await store.readAll({ after: LOG_START, limit: 2, streamId: 'c' })).toEqual(ofC.slice(0, 2));
        expect(await store.readAll({ after: ofC[1]!.position, limit: 100, streamId: 'c' })).toEqual(ofC.slice(2));
        // `after` is a global position: one that belongs to another stream works too.
        const firstOfA = written.find((e) => e.streamId === 'a')!;
        const laterOfC = ofC.filter((e) => e.position > firstOfA.position);
        expect(await store.readAll({ after: firstOfA.position, limit: 100, streamId: 'c' })).toEqual(laterOfC);
        expect(await store.readAll({ after: LOG_START, limit: 100, streamId: 'nobody' })).toEqual([]);
      });

      it('reports the head position', async () => {
        const written = await interleave();
        expect(await store.headPosition()).toBe(written.at(-1)!.position);
      });
    });

    describe('unique values', () => {
      const email = (value: string): UniqueValue => ({ scope: 'email', value });

      it('lets a stream claim a free value', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
      });

      it('refuses a value another stream holds, with the owner, appending nothing', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
        const head = await store.headPosition();
        const taken = expectConflict(
          await append({ streamId: 'u2', events: events(3), claims: [email('b@x'), email('a@x')] }),
          'UniqueValueTaken',
        );
        expect(taken).toEqual({ type: 'UniqueValueTaken', scope: 'email', value: 'a@x', ownerStreamId: 'u1' });
        expect(await store.readStream('u2')).toEqual({ version: 0, events: [] });
        expect(await store.headPosition()).toBe(head);
        // The free value claimed in the same failed request was not kept either.
        expectOk(await append({ streamId: 'u3', claims: [email('b@x')] }));
      });

      it('lets the holder claim its own value again', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
        expectOk(await append({ streamId: 'u1', expectedVersion: 1, claims: [email('a@x')] }));
        expectConflict(await append({ streamId: 'u2', claims: [email('a@x')] }), 'UniqueValueTaken');
      });

      it('frees a released value for another stream', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
        expectOk(await append({ streamId: 'u1', expectedVersion: 1, releases: [email('a@x')], claims: [email('new@x')] }));
        expectOk(await append({ streamId: 'u2', claims: [email('a@x')] }));
        const taken = expectConflict(await append({ streamId: 'u3', claims: [email('new@x')] }), 'UniqueValueTaken');
        expect(taken.ownerStreamId).toBe('u1');
      });

      it('does not let a stream release a value another stream holds', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
        expectOk(await append({ streamId: 'u2', releases: [email('a@x')] }));
        const taken = expectConflict(await append({ streamId: 'u3', claims: [email('a@x')] }), 'UniqueValueTaken');
        expect(taken.ownerStreamId).toBe('u1');
      });

      it('rolls back releases when a claim in the same append fails', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('a@x')] }));
        expectOk(await append({ streamId: 'u2', claims: [email('b@x')] }));
        // u2 tries to move from b@x to a@x, which u1 holds.
        expectConflict(
          await append({ streamId: 'u2', expectedVersion: 1, releases: [email('b@x')], claims: [email('a@x')] }),
          'UniqueValueTaken',
        );
        const taken = expectConflict(await append({ streamId: 'u3', claims: [email('b@x')] }), 'UniqueValueTaken');
        expect(taken.ownerStreamId).toBe('u2');
      });

      it('keeps scopes apart', async () => {
        expectOk(await append({ streamId: 'u1', claims: [email('same')] }));
        expectOk(await append({ streamId: 'u2', claims: [{ scope: 'username', value: 'same' }] }));
      });

      it('does not claim anything when the version conflicts', async () => {
        expectOk(await append({ streamId: 'u1' }));
        expectConflict(await append({ streamId: 'u1', expectedVersion: 0, claims: [email('a@x')] }), 'StreamVersionConflict');
        expectOk(await append({ streamId: 'u2', claims: [email('a@x')] }));
      });
    });

    describe('idempotency records', () => {
      it('writes the record in the append, with the outcome computed from the appended result', async () => {
        let seen: Appended | undefined;
        const appended = expectOk(
          await append({
            streamId: 's1',
            events: events(2),
            idempotency: {
              key: 'k1',
              requestHash: 'hash-1',
              outcome: (a) => {
                seen = a;
                return { ok: true, value: { streamId: a.streamId, version: a.version, position: a.position } };
              },
            },
          }),
        );
        expect(seen).toEqual(appended);
        expect(await store.getIdempotencyRecord('k1')).toEqual({
          key: 'k1',
          requestHash: 'hash-1',
          outcome: { ok: true, value: { streamId: 's1', version: 2, position: appended.position } },
        });
      });

      it('refuses an append under a key that is already recorded, appending nothing', async () => {
        const idempotency = { key: 'k1', requestHash: 'h', outcome: () => ({ first: true }) };
        expectOk(await append({ streamId: 's1', idempotency }));
        const head = await store.headPosition();
        const taken = expectConflict(
          await append({ streamId: 's2', events: events(2), idempotency: { ...idempotency, outcome: () => ({ first: false }) } }),
          'IdempotencyKeyTaken',
        );
        expect(taken).toEqual({ type: 'IdempotencyKeyTaken', key: 'k1' });
        expect(await store.readStream('s2')).toEqual({ version: 0, events: [] });
        expect(await store.headPosition()).toBe(head);
        expect((await store.getIdempotencyRecord('k1'))?.outcome).toEqual({ first: true });
      });

      it('refuses an append under a key recorded with saveIdempotencyRecord', async () => {
        await store.saveIdempotencyRecord({ key: 'k1', requestHash: 'h', outcome: { ok: false } });
        expectConflict(
          await append({ streamId: 's1', idempotency: { key: 'k1', requestHash: 'h', outcome: () => ({}) } }),
          'IdempotencyKeyTaken',
        );
        expect(await store.headPosition()).toBe(LOG_START);
      });

      it('writes no record when the append is rejected', async () => {
        expectOk(await append({ streamId: 's1' }));
        expectConflict(
          await append({ streamId: 's1', expectedVersion: 0, idempotency: { key: 'k1', requestHash: 'h', outcome: () => ({}) } }),
          'StreamVersionConflict',
        );
        expect(await store.getIdempotencyRecord('k1')).toBeNull();
      });

      it('saveIdempotencyRecord keeps the first record and returns it', async () => {
        const first = { key: 'k1', requestHash: 'h1', outcome: { ok: false, error: { type: 'UserNotFound', message: 'no' } } };
        expect(await store.saveIdempotencyRecord(first)).toEqual(first);
        const second = await store.saveIdempotencyRecord({ key: 'k1', requestHash: 'h2', outcome: { ok: true } });
        expect(second).toEqual(first);
        expect(await store.getIdempotencyRecord('k1')).toEqual(first);
        // Other keys are independent.
        const other = { key: 'k2', requestHash: 'h2', outcome: [1, 'two', null] };
        expect(await store.saveIdempotencyRecord(other)).toEqual(other);
      });
    });

    describe('onAppended', () => {
      // A wake-up, not a data feed: it may come late (another process's
      // append, heard over the network) or more often than needed, but it
      // must come after every committed append.
      it('wakes listeners after an append, when the append is visible', async () => {
        const { received, unsubscribe } = nextNotification(store);
        const appended = expectOk(await append({ streamId: 's1', events: events(3) }));
        await received;
        expect(await store.headPosition()).toBe(appended.position);
        unsubscribe();
      });

      it('stops calling a listener once it unsubscribes', async () => {
        let calls = 0;
        const unsubscribe = store.onAppended(() => (calls += 1));
        const first = nextNotification(store);
        expectOk(await append({ streamId: 's1' }));
        await first.received;
        first.unsubscribe();
        unsubscribe();
        const callsBefore = calls;
        expect(callsBefore).toBeGreaterThanOrEqual(1);
        // A listener still subscribed hears the second append; by then the
        // unsubscribed one would have heard it too.
        const second = nextNotification(store);
        expectOk(await append({ streamId: 's1', expectedVersion: 1 }));
        await second.received;
        second.unsubscribe();
        expect(calls).toBe(callsBefore);
      });

      it('reports a committed append as committed even when a listener throws, and still wakes the others', async () => {
        // A wake-up listener is not part of the write: its failure must not
        // make a caller believe (and retry) an append that is already durable.
        const unsubscribeBad = store.onAppended(() => {
          throw new Error('listener failed');
        });
        const good = nextNotification(store);
        const result = await append({ streamId: 's1' }).catch((error: unknown) => error);
        expect(result).toMatchObject({ ok: true, value: { version: 1 } });
        await good.received;
        unsubscribeBad();
        good.unsubscribe();
        expect(await store.headPosition()).toBe((result as { value: Appended }).value.position);
      });
    });

    describe('positions as text', () => {
      it('parses what it formats, for the start and for every event', async () => {
        const appended = expectOk(await append({ streamId: 's1', events: events(3) }));
        for (const position of [LOG_START, ...appended.events.map((e) => e.position)]) {
          const text = store.formatPosition(position);
          expect(typeof text).toBe('string');
          expect(store.parsePosition(text)).toEqual({ ok: true, value: position });
        }
      });

      it('writes and reads the start of the log as "0", whatever the store', () => {
        expect(store.formatPosition(LOG_START)).toBe('0');
        expect(store.parsePosition('0')).toEqual({ ok: true, value: LOG_START });
      });

      it('knows which positions name its events', async () => {
        const appended = expectOk(await append({ streamId: 's1', events: events(2) }));
        expect(await store.isEventPosition(LOG_START)).toBe(true);
        for (const e of appended.events) expect(await store.isEventPosition(e.position)).toBe(true);
      });

      it('estimates the events between two positions', async () => {
        const appended = expectOk(await append({ streamId: 's1', events: events(5) }));
        const [first, , , , last] = appended.events.map((e) => e.position);
        expect(store.estimateEventsBetween(LOG_START, last!)).toBeGreaterThanOrEqual(5);
        expect(store.estimateEventsBetween(first!, last!)).toBeGreaterThanOrEqual(4);
        expect(store.estimateEventsBetween(last!, last!)).toBe(0);
        expect(store.estimateEventsBetween(last!, first!)).toBe(0);
      });

      const garbage = ['abc', '-1', '', '1e3', '1.5', ' ', ' 1', '0x10', '9'.repeat(30), '9'.repeat(10_000), `${'1'.repeat(400)}a`, ':', 'toString:1'];
      it.each(garbage.map((text) => [text.length > 20 ? `${text.slice(0, 8)}… (${text.length} chars)` : JSON.stringify(text), text]))(
        'rejects %s with a reason',
        (_label, text) => {
          const parsed = store.parsePosition(text);
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect(parsed.error).toMatch(/position/);
        },
      );

      it('rejects the body of one of its positions with garbage around it', async () => {
        const text = store.formatPosition(expectOk(await append({ streamId: 's1' })).position);
        for (const bad of [`${text}x`, `${text}.5`, ` ${text}`, `${text}:1`, text.toUpperCase() === text ? `${text}0x` : text.toUpperCase()]) {
          expect(store.parsePosition(bad).ok, bad).toBe(false);
        }
      });
    });
  });
}
