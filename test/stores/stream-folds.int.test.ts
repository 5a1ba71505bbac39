/**
 * Folding streams from snapshots (src/kernel/stream-folds.ts) against a
 * plain fold of the whole stream: snapshots present, missing, damaged or
 * deleted never change an answer, and once written they bound the read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventLog, EventStore } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { SnapshotStore, StreamBound } from '../../src/kernel/snapshots.js';
import { createStreamFolds, type StreamFold } from '../../src/kernel/stream-folds.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { createMemorySnapshotStore } from '../../src/stores/memory/snapshots.js';

/** A fold whose state records exactly which events went in, in order. */
const trail: StreamFold<string> = {
  name: 'trail@1',
  initialState: () => '',
  evolve: (state, event) => `${state}${(event.data as { n: number }).n};`,
  decode: (stored) => (typeof stored === 'string' ? stored : undefined),
};

const minute = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, 0) + m * 60_000).toISOString();

/** Appends events 1..n one by one, at the given minutes (not necessarily in order: clocks differ). */
async function streamOf(store: EventStore, minutes: readonly number[]): Promise<StoredEvent[]> {
  for (const [i, m] of minutes.entries()) {
    const appended = await store.append({
      streamId: 's',
      expectedVersion: i,
      events: [{ type: 'Happened', data: { n: i + 1 }, metadata: { occurredAt: minute(m) } }],
    });
    if (!appended.ok) throw new Error('append failed');
    await store.append({ streamId: `other-${i}`, expectedVersion: 0, events: [{ type: 'Elsewhere', data: {}, metadata: { occurredAt: minute(m) } }] });
  }
  return [...(await store.readStream('s')).events];
}

/** What the answer must be: the longest prefix of the stream within the bound, folded from the start. */
function reference(events: readonly StoredEvent[], bound: StreamBound | undefined) {
  let state = trail.initialState();
  let version = 0;
  for (const event of events) {
    if (bound?.type === 'version' && event.streamVersion > bound.version) break;
    if (bound?.type === 'position' && event.position > bound.position) break;
    if (bound?.type === 'time' && event.metadata.occurredAt > bound.time) break;
    state = trail.evolve(state, event);
    version = event.streamVersion;
  }
  return { state, version };
}

/** The event log, counting the events it hands out. */
function counting(store: EventLog) {
  const read = { events: 0 };
  const eventLog: Pick<EventLog, 'readStreamFrom'> = {
    readStreamFrom: async (streamId, options) => {
      const events = await store.readStreamFrom(streamId, options);
      read.events += events.length;
      return events;
    },
  };
  return { eventLog, read };
}

describe('stream folds with snapshots', () => {
  it('answer as the whole stream folded, with snapshots written, damaged or deleted; once written, reads stay within one interval', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(
          fc.oneof(
            fc.constant(undefined),
            fc.record({ type: fc.constant('version' as const), version: fc.integer({ min: 0, max: 45 }) }),
            fc.record({ type: fc.constant('position' as const), index: fc.integer({ min: -1, max: 90 }) }),
            fc.record({ type: fc.constant('time' as const), minute: fc.integer({ min: -1, max: 31 }) }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.nat(),
        async (minutes, every, picks, damagedPick) => {
          const store = createMemoryEventStore();
          const events = await streamOf(store, minutes);
          const log = await store.readAll({ after: LOG_START, limit: 1000 });
          const bounds: (StreamBound | undefined)[] = picks.map((pick) => {
            if (pick === undefined || pick.type === 'version') return pick;
            if (pick.type === 'time') return { type: 'time', time: minute(pick.minute) };
            // Any position of the log (other streams' too), its start, or one past its end.
            const position: Position = pick.index < 0 ? LOG_START : (log[pick.index]?.position ?? (`${log.at(-1)?.position ?? ''}~` as Position));
            return { type: 'position', position };
          });
          const snapshots = createMemorySnapshotStore();
          const { eventLog, read } = counting(store);
          const folds = createStreamFolds({ eventLog, snapshots, every, onError: () => {} });
          const expectAllAnswers = async (stage: string) => {
            for (const bound of bounds) {
              const folded = await folds.fold(trail, 's', bound);
              expect({ state: folded.state, version: folded.version }, `${stage}, bound ${JSON.stringify(bound)}`).toEqual(reference(events, bound));
            }
            await folds.settled();
          };

          await expectAllAnswers('no snapshots yet');
          // The whole stream, folded once, leaves a snapshot at every multiple of `every`.
          await folds.fold(trail, 's');
          await folds.settled();
          read.events = 0;
          for (const bound of bounds) {
            const before = read.events;
            await folds.fold(trail, 's', bound);
            expect(read.events - before, `events read for ${JSON.stringify(bound)}`).toBeLessThanOrEqual(every + 2);
          }
          await expectAllAnswers('snapshots written');

          const multiples = Math.floor(events.length / every);
          if (multiples > 0) {
            const version = every * (1 + (damagedPick % multiples));
            const damaged = (await snapshots.loadSnapshot('s', trail.name, { type: 'version', version }))!;
            await snapshots.saveSnapshots([{ ...damaged, state: { not: 'a trail' } }]);
            await expectAllAnswers(`snapshot at ${version} damaged`);
            await snapshots.saveSnapshots([{ ...damaged, version: events.length + 5 }]);
            await expectAllAnswers('a snapshot beyond the stream end');
          }
          await snapshots.deleteSnapshots();
          await expectAllAnswers('snapshots deleted');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers from the stream when the snapshot store fails, and says so', async () => {
    const store = createMemoryEventStore();
    const events = await streamOf(store, [1, 2, 3, 4, 5]);
    const failing: SnapshotStore = {
      saveSnapshots: () => Promise.reject(new Error('disk full')),
      loadSnapshot: () => Promise.reject(new Error('file damaged')),
      deleteSnapshots: async () => {},
      close: async () => {},
    };
    const errors: string[] = [];
    const folds = createStreamFolds({ eventLog: store, snapshots: failing, every: 2, onError: (error, { action }) => errors.push(`${action}: ${(error as Error).message}`) });
    expect((await folds.fold(trail, 's')).state).toBe(reference(events, undefined).state);
    await folds.settled();
    expect(errors).toEqual(['load: file damaged', 'save: disk full']);
  });

  it('snapshots the folds after an append that crosses an interval, in the background', async () => {
    const store = createMemoryEventStore();
    await streamOf(store, [1, 2, 3, 4, 5, 6, 7]);
    const snapshots = createMemorySnapshotStore();
    const folds = createStreamFolds({ eventLog: store, snapshots, every: 3, onError: (error) => expect.fail(String(error)) });
    folds.appended([trail], 's', 4, 5);
    await folds.settled();
    expect(await snapshots.loadSnapshot('s', trail.name)).toBeNull();
    folds.appended([trail], 's', 5, 7);
    // Nothing is written before the caller's own continuation has run.
    expect(await snapshots.loadSnapshot('s', trail.name)).toBeNull();
    await folds.settled();
    const newest = await snapshots.loadSnapshot('s', trail.name);
    expect(newest).toMatchObject({ version: 6, state: '1;2;3;4;5;6;', time: minute(6) });
    expect((await snapshots.loadSnapshot('s', trail.name, { type: 'version', version: 5 }))?.version).toBe(3);
  });

  it('never asks the snapshot store about a stream shorter than the interval, and asks once it is as long', async () => {
    const store = createMemoryEventStore();
    await streamOf(store, [1, 2]);
    const memory = createMemorySnapshotStore();
    const loads: string[] = [];
    const snapshots: SnapshotStore = {
      ...memory,
      loadSnapshot: (streamId, fold, bound) => {
        loads.push(streamId);
        return memory.loadSnapshot(streamId, fold, bound);
      },
    };
    const folds = createStreamFolds({ eventLog: store, snapshots, every: 3, onError: (error) => expect.fail(String(error)) });
    expect((await folds.fold(trail, 's')).state).toBe('1;2;');
    expect((await folds.fold(trail, 's', { type: 'version', version: 1 })).state).toBe('1;');
    expect((await folds.fold(trail, 's')).state).toBe('1;2;');
    expect(loads).toEqual([]);

    await store.append({ streamId: 's', expectedVersion: 2, events: [{ type: 'Happened', data: { n: 3 }, metadata: { occurredAt: minute(3) } }] });
    folds.appended([trail], 's', 2, 3);
    await folds.settled();
    expect(await folds.fold(trail, 's')).toMatchObject({ state: '1;2;3;', version: 3 });
    expect(loads).toEqual(['s']);
  });

  it('with an interval of 0 neither reads nor writes snapshots', async () => {
    const store = createMemoryEventStore();
    const events = await streamOf(store, [1, 2, 3, 4]);
    const snapshots = createMemorySnapshotStore();
    await snapshots.saveSnapshots([{ streamId: 's', fold: trail.name, version: 2, position: events[1]!.position, time: minute(2), state: 'wrong;' }]);
    const folds = createStreamFolds({ eventLog: store, snapshots, every: 0, onError: (error) => expect.fail(String(error)) });
    expect((await folds.fold(trail, 's')).state).toBe('1;2;3;4;');
    folds.appended([trail], 's', 0, 4);
    await folds.settled();
    expect((await snapshots.loadSnapshot('s', trail.name))?.version).toBe(2);
  });
});
