import { settings } from '../../src/server/config.js';
import { LIMIT_CODES } from '../../src/server/operation-limits.js';

/** A setting's default, as the README's tables give it. */
export const defaultOf = (name: keyof typeof settings) => Number(settings[name].schema.safeParse(undefined).data);

export const aliases = (count: number, field = 'user(id: "u") { id }') => Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

/**
 * A valid query of any depth. The schema's deepest path is 4 levels
 * (users > edges > node > id); graphql-armor counts each inline fragment as
 * a level too, so `... on User { }` wrappers go deeper.
 */
export function deepQuery(depth: number): string {
  let inner = 'id';
  for (let level = 4; level < depth; level += 1) inner = `... on User { ${inner} }`;
  return `{ users { edges { node { ${inner} } } } }`;
}

/** Operations just past each default limit (and their code). */
export const tooMuch: [string, string, string][] = [
  ['depth', LIMIT_CODES.maxDepth, deepQuery(defaultOf('MAX_DEPTH') + 1)],
  ['aliases', LIMIT_CODES.maxAliases, `{ ${aliases(defaultOf('MAX_ALIASES') + 1)} }`],
  ['cost', LIMIT_CODES.maxCost, `{ ${aliases(3, 'users(first: 100) { totalCount edges { cursor node { id username email version createdAt updatedAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }')} }`],
  ['tokens', LIMIT_CODES.maxTokens, `{ ${'__typename '.repeat(defaultOf('MAX_TOKENS'))}}`],
  ['directives', LIMIT_CODES.maxDirectives, `{ ${'__typename @include(if: true) '.repeat(defaultOf('MAX_DIRECTIVES') + 1)}}`],
];
