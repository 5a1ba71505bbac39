import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the integration tests: every operation in
 * test/integration/*.graphql becomes a TypedDocumentNode in test/gql/,
 * checked against the checked-in contract (schema.graphql).
 * test/integration/contract.e2e.test.ts fails when test/gql/ is stale.
 */
const config: CodegenConfig = {
  schema: './schema.graphql',
  documents: ['test/integration/**/*.graphql'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
