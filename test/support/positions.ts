import { LOG_START, type Position } from '../../src/kernel/position.js';
import type { EventStore } from '../../src/kernel/event-store.js';

/**
 * Tests over the embedded store may count positions: SQLite hands out row ids
 * in commit order, so `sqlite:N` is the Nth event. Clients must not; to them a
 * position is opaque.
 */
export function sqliteSequence(text: string): number {
  if (text === '0') return 0;
  const match = /^sqlite:(0|[1-9][0-9]*)$/.exec(text);
  if (!match) throw new Error(`not a SQLite position: ${JSON.stringify(text)}`);
  return Number(match[1]);
}

/** A client-facing position read back into the store's own form; throws on text the store refuses. */
export function parsed(store: EventStore, text: string): Position {
  const result = store.parsePosition(text);
  if (!result.ok) throw new Error(`${JSON.stringify(text)} ${result.error}`);
  return result.value;
}

export { LOG_START };
