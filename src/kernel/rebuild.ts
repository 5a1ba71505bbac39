import { setTimeout } from 'node:timers/promises';
import type { EventStore } from './event-store.js';
import { LOG_START } from './position.js';
import type { ProjectionSink } from './projector.js';

const HELD_BACK_RETRY_MS = 20;

/** `total` is an estimate taken at the start; events appended meanwhile are applied too. */
export type RebuildProgress = Readonly<{ applied: number; total: number }>;

/**
 * Empties a read model and replays the whole log into it. Run it while no
 * projector serves this read model; the checkpoint guard in `apply` turns a
 * forgotten running server into a clean failure rather than double effects.
 */
export async function rebuildProjection(
  store: EventStore,
  sink: ProjectionSink,
  options: { batchSize?: number; onProgress?: (progress: RebuildProgress) => void } = {},
): Promise<RebuildProgress> {
  const batchSize = options.batchSize ?? 5000;
  await sink.reset();
  const committed = await store.lastCommittedPosition();
  const total = store.estimateEventsBetween(LOG_START, committed);
  let position = LOG_START;
  let applied = 0;
  for (;;) {
    const events = await store.readAll({ after: position, limit: batchSize });
    if (events.length === 0) {
      if (position >= committed) break;
      // Committed before the rebuild began, but held back from reads by an older transaction still running
      // (PostgreSQL, any database of the cluster): stopping here would leave the read model short.
      await setTimeout(HELD_BACK_RETRY_MS);
      continue;
    }
    if (!(await sink.apply(events, position))) {
      throw new Error(`Checkpoint of ${sink.name} moved during rebuild: is a server running on this read model?`);
    }
    position = events[events.length - 1]!.position;
    applied += events.length;
    options.onProgress?.({ applied, total: Math.max(total, applied) });
  }
  return { applied, total: Math.max(total, applied) };
}
