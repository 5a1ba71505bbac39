/**
 * A stream id names its aggregate's category and the entity: `user-u1`.
 * Two aggregates may use the same entity id without sharing a stream. The
 * category is a word (no "-"), so the id after the first "-" may be anything.
 */
export type StreamCategory = string & { readonly __brand: 'StreamCategory' };

const CATEGORY = /^[a-z][a-zA-Z0-9]*$/;

export function streamCategory(name: string): StreamCategory {
  if (!CATEGORY.test(name)) throw new Error(`Stream category "${name}" must be a word of letters and digits starting with a lower-case letter`);
  return name as StreamCategory;
}

export const streamIdOf = (category: StreamCategory, entityId: string): string => `${category}-${entityId}`;

/** The entity id of a stream in `category`, or null for another category's stream. */
export function entityIdOf(category: StreamCategory, streamId: string): string | null {
  return streamId.length > category.length && streamId.startsWith(category) && streamId[category.length] === '-'
    ? streamId.slice(category.length + 1)
    : null;
}

/** The entity id of a stream known to be in `category` (an event a projection subscribed to); anything else is a bug. */
export function requireEntityIdOf(category: StreamCategory, streamId: string): string {
  const id = entityIdOf(category, streamId);
  if (id === null) throw new Error(`Stream "${streamId}" is not in category "${category}"`);
  return id;
}
