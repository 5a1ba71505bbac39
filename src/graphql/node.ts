import { brandWithType } from '@pothos/core';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { badUserInput } from './errors.js';
import { requireGlobalId, type GlobalId } from './global-id.js';

/**
 * Relay's Global Object Identification: `node(id:)` and `nodes(ids:)` find
 * any object by its global id. A module makes a type refetchable by having
 * it implement `NodeInterface` and registering how to load it by its own ids;
 * this file knows no module.
 */
export type NodeLoader = (ids: readonly string[], ctx: GraphQLContext) => Promise<readonly (object | null)[]>;

const loaders = new Map<string, NodeLoader>();

export function registerNodeType(typename: string, load: NodeLoader): void {
  if (loaders.has(typename)) throw new Error(`Node type ${typename} is registered twice`);
  loaders.set(typename, load);
}

export const NodeInterface = builder.interfaceRef<object>('Node').implement({
  description: 'An object with a global id, which `node(id:)` finds again (Relay Global Object Identification).',
  fields: (t) => ({
    id: t.id({
      description: 'Global id: `<Type>:<id>`, such as `User:0190a1b2-…`. Opaque to clients; stable for good.',
      // Every implementing type resolves its own id; reaching this is a schema bug.
      resolve: () => {
        throw new Error('Node.id must be resolved by the implementing type');
      },
    }),
  }),
});

/** Like a page, a `nodes` list is bounded: one request cannot make the server load an unbounded set. */
export const MAX_NODES = 100;

async function loadNodes(globalIds: readonly GlobalId[], ctx: GraphQLContext): Promise<(object | null)[]> {
  const found: (object | null)[] = globalIds.map(() => null);
  const byType = new Map<string, number[]>();
  globalIds.forEach(({ typename }, index) => {
    if (!loaders.has(typename)) return; // a type this API has no node of: null, as for an unknown id
    const indexes = byType.get(typename);
    if (indexes) indexes.push(index);
    else byType.set(typename, [index]);
  });
  await Promise.all(
    [...byType].map(async ([typename, indexes]) => {
      const loaded = await loaders.get(typename)!(indexes.map((index) => globalIds[index]!.id), ctx);
      indexes.forEach((index, i) => {
        const value = loaded[i] ?? null;
        // The brand is how `Node` resolves the concrete type of a plain read-model object.
        if (value !== null) brandWithType(value, typename as never);
        found[index] = value;
      });
    }),
  );
  return found;
}

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    description: 'The object with this global id; null when there is none (or none of that type). A malformed id is BAD_USER_INPUT.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await loadNodes([requireGlobalId(String(id), 'id')], ctx))[0] ?? null,
  }),
);

builder.queryField('nodes', (t) =>
  t.field({
    type: [NodeInterface],
    nullable: { list: false, items: true },
    description: `The objects with these global ids, in order; null for each id that names nothing. At most ${MAX_NODES} ids, loaded in one read per type.`,
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, ctx) => {
      if (ids.length > MAX_NODES) throw badUserInput(`"ids" may hold at most ${MAX_NODES} ids`, 'ids');
      return loadNodes(
        ids.map((id) => requireGlobalId(String(id), 'ids')),
        ctx,
      );
    },
  }),
);
