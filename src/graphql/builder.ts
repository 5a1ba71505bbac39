import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver } from 'graphql-scalars';
import type { GraphQLContext } from './context.js';
import { actsFor, isAdmin } from './viewer.js';

/** Creates the builder and the scalars; types live in one file each, next to their module. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  /** What a field may require of the viewer (src/graphql/viewer.ts); with authentication off every scope passes. */
  AuthScopes: { signedIn: boolean; actsFor: string; admin: boolean };
  Scalars: { DateTime: { Input: Date; Output: Date | string } };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // scope-auth first, so its checks run before any other plugin's resolver wrapper.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: ({ viewer }) => ({
      signedIn: viewer.type !== 'anonymous',
      actsFor: (userId) => actsFor(viewer, userId),
      admin: isAdmin(viewer),
    }),
  },
  relay: {
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // `node`/`nodes` and the `Node` interface are our own (src/graphql/node.ts): ids are
    // readable `<Type>:<id>` and go through each module's query bus and DataLoader.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

// specifiedByURL lets codegen and clients know it is an RFC 3339 string, not an opaque value.
builder.addScalarType('DateTime', DateTimeResolver, { specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time' });
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
