import { badUserInput } from './errors.js';

/**
 * Relay global ids: `<Type>:<id>`, e.g. `User:0190a1b2-…`. Readable on
 * purpose (logs, support tickets, URLs), and never ambiguous with the ids
 * clients held before global ids existed: those may not contain a colon, so
 * a legacy user id can never parse as a global one. The format is part of
 * the API contract and does not change.
 *
 * Stores and events keep the type's own id (the stream id); the type prefix
 * exists only at the GraphQL edge.
 */
export type GlobalId = Readonly<{ typename: string; id: string }>;

const TYPENAME = /^[A-Z][A-Za-z0-9]{0,63}$/;
const MAX_GLOBAL_ID_LENGTH = 256;

export const encodeGlobalId = (typename: string, id: string): string => `${typename}:${id}`;

/** `null` when the text is not of the form `<Type>:<id>`. */
export function parseGlobalId(text: string): GlobalId | null {
  if (text.length > MAX_GLOBAL_ID_LENGTH) return null;
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const typename = text.slice(0, colon);
  const id = text.slice(colon + 1);
  return TYPENAME.test(typename) && id.length > 0 ? { typename, id } : null;
}

/** For arguments that must be global ids (`node`, `nodes`): a malformed one is the client's mistake. */
export function requireGlobalId(text: string, argument: string): GlobalId {
  const parsed = parseGlobalId(text);
  if (!parsed) {
    throw badUserInput(`"${argument}" is not a global id: expected "<Type>:<id>", as every \`id\` field returns`, argument);
  }
  return parsed;
}

/**
 * How an argument that names one object of `typename` is read: a global id of
 * that type, or the type's own id as clients stored it before global ids.
 * A global id of another type names nothing of this type.
 */
export type TypedIdArgument = Readonly<{ type: 'own'; id: string }> | Readonly<{ type: 'otherType'; typename: string }>;

export function readIdArgument(text: string, typename: string): TypedIdArgument {
  const global = parseGlobalId(text);
  if (!global) return { type: 'own', id: text };
  return global.typename === typename ? { type: 'own', id: global.id } : { type: 'otherType', typename: global.typename };
}
