import { LOG_START, type Position } from '../../kernel/position.js';

/** The event's row id, zero-padded so that text order is numeric order; row id 0 is the start. */
export const sqlitePosition = (rowId: number): Position => (rowId === 0 ? LOG_START : (String(rowId).padStart(16, '0') as Position));

export const rowIdOf = (position: Position): number => (position === LOG_START ? 0 : Number(position));

/** SQL turning a schema-version-1 integer position into the text `sqlitePosition` makes. */
export const positionTextOf = (column: string) => `CASE WHEN ${column} = 0 THEN '' ELSE printf('%016d', ${column}) END`;
