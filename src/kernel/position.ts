/**
 * A place in the global log. Each store encodes its own ordering key as
 * fixed-width text (SQLite: the row id; PostgreSQL: the writing transaction's
 * id and a sequence number), so plain string comparison is log order and the
 * kernel never needs to know which store it runs on. Only the store that
 * made a position can read it, and only through that store are positions
 * turned into the strings clients see.
 */
export type Position = string & { readonly __brand: 'Position' };

/** Before the first event: every position is greater. */
export const LOG_START = '' as Position;

export const earliestOf = (positions: readonly Position[]): Position =>
  positions.reduce((lowest, position) => (position < lowest ? position : lowest));
