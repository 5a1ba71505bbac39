import { LOG_START, type Position } from '../../kernel/position.js';

/**
 * An in-memory event's position is its place in the log (1 for the first
 * event), zero-padded like SQLite's row id so that text order is log order;
 * 0 is the start.
 */
export const memoryPosition = (sequence: number): Position =>
  sequence === 0 ? LOG_START : (String(sequence).padStart(16, '0') as Position);

export const sequenceOf = (position: Position): number => (position === LOG_START ? 0 : Number(position));
