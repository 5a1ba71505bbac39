import { LOG_START, type Position } from '../../kernel/position.js';

/**
 * A PostgreSQL position is the writing transaction's id (xid8) and the
 * event's sequence number, each zero-padded (20 and 19 digits: their largest
 * values), so that text order is (transaction id, sequence) order.
 */
export type PgPositionParts = Readonly<{ transactionId: string; sequence: string }>;

export const pgPosition = (transactionId: string, sequence: string): Position =>
  `${transactionId.padStart(20, '0')}.${sequence.padStart(19, '0')}` as Position;

export function pgPositionParts(position: Position): PgPositionParts {
  if (position === LOG_START) return { transactionId: '0', sequence: '0' };
  const [transactionId = '0', sequence = '0'] = position.split('.');
  return { transactionId: transactionId.replace(/^0+(?=.)/, ''), sequence: sequence.replace(/^0+(?=.)/, '') };
}
