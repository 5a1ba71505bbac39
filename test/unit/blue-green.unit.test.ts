/**
 * The build beside a live read model (src/kernel/blue-green.ts), on the
 * in-memory event store and a build that keeps what it is given: every
 * event once, in order, a failing batch retried and never skipped, the
 * switch at the end under the live batches' turn, and nothing switched
 * when the build is aborted.
 */
import { describe, expect, it } from 'vitest';
import { buildBeside, createTurns, type BesideBuild, type BlueGreenSink, type BuildProgress } from '../../src/kernel/blue-green.js';
import type { StoredEvent } from '../../src/kernel/messages.js';
import { LOG_START, type Position } from '../../src/kernel/position.js';
import { createMemoryEventStore } from '../../src/stores/memory/event-store.js';
import { waitUntil } from '../support/wait.js';

async function storeWith(count: number) {
  const store = createMemoryEventStore();
  for (let i = 0; i < count; i++) {
    await store.append({ streamId: `s-${i}`, expectedVersion: 0, events: [{ type: 'Happened', data: { i }, metadata: { occurredAt: new Date(0).toISOString() } }] });
  }
  return store;
}

/** A build that records what it applies; `failOnce` makes the batch holding that event fail the first time. */
function recordingBuild(failOnce?: number) {
  const applied: StoredEvent[] = [];
  const calls: string[] = [];
  let checkpoint: Position = LOG_START;
  let failed = false;
  const build: BesideBuild = {
    apply: async (events, from) => {
      if (from !== checkpoint) return false;
      if (!failed && failOnce !== undefined && events.some((e) => (e.data as { i: number }).i === failOnce)) {
        failed = true;
        throw new Error('cannot apply');
      }
      applied.push(...events);
      checkpoint = events.at(-1)!.position;
      return true;
    },
    switchOver: async (at) => void calls.push(`switch ${at === checkpoint ? 'at the build checkpoint' : at}`),
    discard: async () => void calls.push('discard'),
  };
  const blueGreen: BlueGreenSink = {
    version: 2,
    liveVersion: async () => 1,
    adopt: async () => {},
    beginBuild: async () => {
      calls.push('begin');
      return build;
    },
  };
  return { blueGreen, applied, calls };
}

describe('buildBeside', () => {
  it('applies every event once, in log order, retrying a failed batch, and switches at the end', async () => {
    const store = await storeWith(25);
    const { blueGreen, applied, calls } = recordingBuild(12);
    const progress: BuildProgress[] = [];
    const errors: unknown[] = [];
    const turns = createTurns();
    const outcome = await buildBeside({
      store,
      blueGreen,
      liveVersion: 1,
      batchSize: 10,
      retryDelayMs: 1,
      signal: new AbortController().signal,
      exclusive: turns,
      onProgress: (p) => progress.push(p),
      onError: (error) => errors.push(error),
    });
    expect(outcome).toBe('switched');
    expect(applied.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(calls).toEqual(['begin', 'switch at the build checkpoint']);
    expect(errors).toHaveLength(1);
    expect(progress.some((p) => p.lastError === 'cannot apply')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ state: 'switching', applied: 25, total: 25, version: 2, liveVersion: 1, lastError: null });
  });

  it('takes the live batches turn for the switch: events appended meanwhile are in the build before it switches', async () => {
    const store = await storeWith(5);
    const { blueGreen, applied } = recordingBuild();
    const turns = createTurns();
    let release!: () => void;
    // A live batch holds the turn; an append lands while it does.
    const liveBatch = turns(() => new Promise<void>((resolve) => (release = resolve)));
    let state = '';
    const building = buildBeside({
      store,
      blueGreen,
      liveVersion: 1,
      batchSize: 10,
      retryDelayMs: 1,
      signal: new AbortController().signal,
      exclusive: turns,
      onProgress: (p) => (state = p.state),
      onError: () => {},
    });
    // Caught up, it waits for the turn to switch: what is appended now must still be in it.
    await waitUntil(() => state === 'switching', 'the build to catch up');
    await store.append({ streamId: 's-late', expectedVersion: 0, events: [{ type: 'Happened', data: { i: 5 }, metadata: { occurredAt: new Date(0).toISOString() } }] });
    release();
    await liveBatch;
    expect(await building).toBe('switched');
    expect(applied).toHaveLength(6);
  });

  it('discards the build and switches nothing when aborted', async () => {
    const store = await storeWith(30);
    const { blueGreen, calls } = recordingBuild();
    const abort = new AbortController();
    const outcome = await buildBeside({
      store,
      blueGreen,
      liveVersion: 1,
      batchSize: 10,
      retryDelayMs: 1,
      signal: abort.signal,
      exclusive: createTurns(),
      onProgress: (p) => {
        if (p.applied >= 10) abort.abort();
      },
      onError: () => {},
    });
    expect(outcome).toBe('aborted');
    expect(calls).toEqual(['begin', 'discard']);
  });
});
