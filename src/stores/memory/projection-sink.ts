import type { StoredEvent } from '../../kernel/messages.js';
import { LOG_START, type Position } from '../../kernel/position.js';
import { eventsHandledBy, type ProjectionSink } from '../../kernel/projector.js';

/** The second step of a batch: stores what the first step worked out. */
export type MemoryWrite = () => void;

/**
 * A projection into plain in-memory structures. Memory has no transaction
 * to roll back, so a batch is folded in two steps: `apply` reads the rows
 * and works out the batch's effect without changing them (it may throw:
 * then nothing happened), and the write it returns only stores that effect,
 * with nothing left in it that can fail. The sink runs the write and moves
 * the checkpoint in the same synchronous step, so readers see rows and
 * checkpoint change together. Both steps cost what the batch touches, not
 * what the rows hold.
 */
export type MemoryProjection<Rows> = Readonly<{
  name: string;
  /** The only events `apply` is given; the checkpoint still moves past the others. */
  eventTypes: readonly string[];
  /** The empty rows, made once per sink; read models keep a reference to them for good. */
  create: () => Rows;
  /** Must not change `rows`: everything it changes goes in the returned write. */
  apply: (rows: Rows, events: readonly StoredEvent[]) => MemoryWrite;
  /** Empties the rows in place, so that readers holding them see the empty read model. */
  reset: (rows: Rows) => void;
}>;

export type MemoryProjectionSink<Rows> = Readonly<{
  sink: ProjectionSink;
  /** What the read model reads: the same object for the sink's whole life. */
  rows: Rows;
}>;

export function createMemoryProjectionSink<Rows>(projection: MemoryProjection<Rows>): MemoryProjectionSink<Rows> {
  const rows = projection.create();
  const handled = eventsHandledBy(projection.eventTypes);
  let checkpoint: Position = LOG_START;

  const sink: ProjectionSink = {
    name: projection.name,
    checkpoint: async () => checkpoint,
    apply: async (events, from) => {
      // As the other sinks do: an empty batch moves nothing and is no conflict.
      if (events.length === 0) return true;
      if (checkpoint !== from) return false;
      const relevant = handled(events);
      // No await between here and the checkpoint move: nothing can interleave with the batch.
      if (relevant.length > 0) projection.apply(rows, relevant)();
      checkpoint = events[events.length - 1]!.position;
      return true;
    },
    reset: async () => {
      projection.reset(rows);
      checkpoint = LOG_START;
    },
  };
  return { sink, rows };
}
