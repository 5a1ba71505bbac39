import { fail, ok, type Result } from '../kernel/result.js';

/**
 * Positions reach clients as `<store tag>:<body>`. The tag lets a store refuse
 * a position made by the other kind of store with a message that says so,
 * instead of misreading it (both would otherwise be runs of digits).
 */
const STORE_NAMES = { sqlite: 'SQLite', pg: 'PostgreSQL', mem: 'memory' } as const;
export type StoreTag = keyof typeof STORE_NAMES;

const MAX_POSITION_TEXT = 64;

/** The start of the log reads the same on every store, so "replay everything" needs no store-specific text. */
export const START_TEXT = '0';

export const tagPosition = (tag: StoreTag, body: string): string => `${tag}:${body}`;

/**
 * The body of a position tagged for this store, or why the text is not one.
 * The caller handles `START_TEXT` first.
 */
export function untagPosition(own: StoreTag, text: string): Result<string, string> {
  const colon = text.indexOf(':');
  const tag = colon < 0 ? '' : text.slice(0, colon);
  if (text.length > MAX_POSITION_TEXT || colon < 0) return fail('is not a position of this event store');
  if (tag !== own) {
    const other = Object.hasOwn(STORE_NAMES, tag) ? STORE_NAMES[tag as StoreTag] : undefined;
    return fail(
      other
        ? `is a position of a ${other} event store; this server uses ${STORE_NAMES[own]}`
        : 'is not a position of this event store',
    );
  }
  return ok(text.slice(colon + 1));
}
