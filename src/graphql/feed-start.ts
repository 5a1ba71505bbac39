import type { EventLog, PositionCodec } from '../kernel/event-store.js';
import type { Position } from '../kernel/position.js';
import { badUserInput } from './errors.js';

/**
 * Where a subscription starts: after a position a client passed, which must
 * name an event of this very log (or a wait for what follows it might never
 * end), or at the head when it passed none.
 */
export async function feedStart(
  after: string | null,
  log: Pick<EventLog, 'headPosition' | 'isEventPosition'> & Pick<PositionCodec, 'parsePosition'>,
): Promise<Position> {
  if (after === null) return log.headPosition();
  const parsed = log.parsePosition(after);
  if (!parsed.ok) throw badUserInput(`"after" ${parsed.error}`, 'after');
  if (!(await log.isEventPosition(parsed.value))) {
    // A position from a log that was reset, or from another database of the same kind.
    throw badUserInput(`"after" is not the position of an event in this event log`, 'after');
  }
  return parsed.value;
}
