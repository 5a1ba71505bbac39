import { describe, expect, it } from 'vitest';
import { LOG_START } from '../../src/kernel/position.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { createMemoryProjectionSink, type MemoryProjection } from '../../src/stores/memory/projection-sink.js';
import { describeProjectionSinkContract, isPoison, SEEN_EVENT_TYPES, SEEN_PROJECTION, type SeenRow } from './projection-sink.contract.js';

/** `seen` in memory: it works the batch out first and throws at a poisoned event, before its write could store anything. */
const seenProjection: MemoryProjection<SeenRow[]> = {
  name: SEEN_PROJECTION,
  eventTypes: SEEN_EVENT_TYPES,
  create: () => [],
  apply: (rows, events) => {
    const added: SeenRow[] = [];
    for (const event of events) {
      if (isPoison(event)) throw new Error(`poisoned event at ${event.position}`);
      added.push({ position: event.position, type: event.type });
    }
    return () => {
      for (const row of added) rows.push(row);
    };
  },
  reset: (rows) => {
    rows.length = 0;
  },
};

describeProjectionSinkContract('in-memory', async () => {
  const store = createMemoryEventStore();
  const { sink, rows } = createMemoryProjectionSink(seenProjection);
  return { store, sink, rows: async () => [...rows], cleanup: () => store.close() };
});

describe('in-memory projection sink specifics', () => {
  it('keeps handing out the same rows object across resets, so a read model built on it stays current', async () => {
    const store = createMemoryEventStore();
    const { sink, rows } = createMemoryProjectionSink(seenProjection);
    const appended = await store.append({ streamId: 's', expectedVersion: 0, events: [{ type: 'Counted', data: {}, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } }] });
    const events = await store.readAll({ after: LOG_START, limit: 10 });
    expect(appended.ok && (await sink.apply(events, LOG_START))).toBe(true);
    expect(rows).toHaveLength(1);
    await sink.reset();
    expect(rows).toHaveLength(0);
    expect(await sink.apply(events, LOG_START)).toBe(true);
    expect(rows).toEqual([{ position: events[0]!.position, type: 'Counted' }]);
  });
});
