/**
 * Conformance suite for `ProjectionSink` adapters (src/kernel/projector.ts).
 * Each adapter runs it with the same tiny projection written in its own
 * kind (`seen`, below): it records the position and type of every event it
 * handles, and fails on a poisoned event the way a projection of that kind
 * fails for real (a constraint the database enforces, or a throw). Events
 * come from a real store of the same kind: appended, then read back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/kernel/event-store.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { ProjectionSink } from '../../src/kernel/projector.js';
import { waitUntil } from '../support/wait.js';

/**
 * The test projection every adapter implements: named `seen`, handling only
 * these types, one row per handled event. A handled event whose data says
 * `poison: true` makes it fail, after the rows of the batch's earlier events.
 */
export const SEEN_PROJECTION = 'seen';
export const SEEN_EVENT_TYPES = ['Counted', 'Noted'] as const;
export type SeenRow = Readonly<{ position: Position; type: string }>;
export const isPoison = (event: StoredEvent): boolean => (event.data as { poison?: unknown }).poison === true;

export type ProjectionSinkFixture = Readonly<{
  store: EventStore;
  /** The sink of this adapter's `seen` projection. */
  sink: ProjectionSink;
  /** The rows `seen` holds now, in position order. */
  rows: () => Promise<readonly SeenRow[]>;
  cleanup: () => Promise<void>;
}>;
export type ProjectionSinkFactory = () => Promise<ProjectionSinkFixture>;

const event = (type: string, data: object = {}): NewEvent => ({ type, data, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });

const rowsOf = (events: readonly StoredEvent[]): SeenRow[] =>
  events.filter((e) => (SEEN_EVENT_TYPES as readonly string[]).includes(e.type)).map(({ position, type }) => ({ position, type }));

export function describeProjectionSinkContract(adapterName: string, createFixture: ProjectionSinkFactory): void {
  describe(`ProjectionSink contract: ${adapterName}`, () => {
    let fixture: ProjectionSinkFixture;
    let sink: ProjectionSink;
    let logEnd = LOG_START;
    let versions = 0;

    beforeEach(async () => {
      fixture = await createFixture();
      sink = fixture.sink;
      logEnd = LOG_START;
      versions = 0;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Appends the events to one stream and returns them as the log holds them, once readable. */
    const logged = async (...newEvents: NewEvent[]): Promise<readonly StoredEvent[]> => {
      const result = await fixture.store.append({ streamId: 'things', expectedVersion: versions, events: newEvents });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      versions = result.value.version;
      let events: readonly StoredEvent[] = [];
      // PostgreSQL readers see an event once no older transaction on the server is still running.
      await waitUntil(
        async () => (events = await fixture.store.readAll({ after: logEnd, limit: newEvents.length + 1 })).length === newEvents.length,
        `${newEvents.length} events to become readable`,
      );
      logEnd = events.at(-1)!.position;
      return events;
    };

    it('starts at the start of the log, with no rows', async () => {
      expect(await sink.checkpoint()).toBe(LOG_START);
      expect(await fixture.rows()).toEqual([]);
    });

    it('applies a batch and moves the checkpoint to its last event; the next batch follows on', async () => {
      const first = await logged(event('Counted'), event('Noted'), event('Counted'));
      expect(await sink.apply(first, LOG_START)).toBe(true);
      expect(await sink.checkpoint()).toBe(first.at(-1)!.position);
      expect(await fixture.rows()).toEqual(rowsOf(first));

      const second = await logged(event('Noted'));
      expect(await sink.apply(second, first.at(-1)!.position)).toBe(true);
      expect(await sink.checkpoint()).toBe(second[0]!.position);
      expect(await fixture.rows()).toEqual(rowsOf([...first, ...second]));
    });

    it('refuses a batch whose `from` is no longer the checkpoint, writing nothing', async () => {
      const first = await logged(event('Counted'), event('Counted'));
      expect(await sink.apply(first, LOG_START)).toBe(true);
      const second = await logged(event('Noted'), event('Counted'));
      // Behind the checkpoint (another runner moved it), and ahead of it (a checkpoint this runner never saw).
      expect(await sink.apply(second, LOG_START)).toBe(false);
      expect(await sink.apply(second, first[0]!.position)).toBe(false);
      expect(await sink.apply(second.slice(1), second[0]!.position)).toBe(false);
      expect(await sink.checkpoint()).toBe(first.at(-1)!.position);
      expect(await fixture.rows()).toEqual(rowsOf(first));
    });

    it('hands the projection only the types it handles, and moves the checkpoint past the rest', async () => {
      const events = await logged(event('Ignored'), event('Counted'), event('Other'), event('Noted'), event('Ignored'));
      expect(await sink.apply(events, LOG_START)).toBe(true);
      expect(await fixture.rows()).toEqual([
        { position: events[1]!.position, type: 'Counted' },
        { position: events[3]!.position, type: 'Noted' },
      ]);
      expect(await sink.checkpoint()).toBe(events[4]!.position);
    });

    it('moves the checkpoint over a batch with no event it handles, and carries on from there', async () => {
      const first = await logged(event('Counted'));
      expect(await sink.apply(first, LOG_START)).toBe(true);
      const unhandled = await logged(event('Ignored'), event('Other'));
      expect(await sink.apply(unhandled, first[0]!.position)).toBe(true);
      expect(await sink.checkpoint()).toBe(unhandled[1]!.position);
      expect(await fixture.rows()).toEqual(rowsOf(first));
      const next = await logged(event('Noted'));
      expect(await sink.apply(next, unhandled[1]!.position)).toBe(true);
      expect(await fixture.rows()).toEqual(rowsOf([...first, ...next]));
    });

    it('leaves rows and checkpoint as they were when the projection fails in the middle of a batch', async () => {
      const first = await logged(event('Counted'));
      expect(await sink.apply(first, LOG_START)).toBe(true);
      const failing = await logged(event('Counted'), event('Ignored'), event('Noted'), event('Counted', { poison: true }), event('Noted'));
      await expect(sink.apply(failing, first[0]!.position)).rejects.toThrow();
      expect(await sink.checkpoint()).toBe(first[0]!.position);
      expect(await fixture.rows()).toEqual(rowsOf(first));
      // Nothing of the failed attempt lingers: the events before the poisoned one apply as usual.
      const healthy = failing.slice(0, 3);
      expect(await sink.apply(healthy, first[0]!.position)).toBe(true);
      expect(await sink.checkpoint()).toBe(healthy[2]!.position);
      expect(await fixture.rows()).toEqual(rowsOf([...first, ...healthy]));
    });

    it('resets rows and checkpoint together, and the log then replays from the start', async () => {
      const events = await logged(event('Counted'), event('Ignored'), event('Noted'));
      expect(await sink.apply(events, LOG_START)).toBe(true);
      await sink.reset();
      expect(await sink.checkpoint()).toBe(LOG_START);
      expect(await fixture.rows()).toEqual([]);
      // A runner that read the checkpoint before the reset holds a stale `from`.
      const more = await logged(event('Noted'));
      expect(await sink.apply(more, events.at(-1)!.position)).toBe(false);
      expect(await sink.apply([...events, ...more], LOG_START)).toBe(true);
      expect(await sink.checkpoint()).toBe(more[0]!.position);
      expect(await fixture.rows()).toEqual(rowsOf([...events, ...more]));
    });
  });
}
