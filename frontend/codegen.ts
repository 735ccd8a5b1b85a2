import type { CodegenConfig } from '@graphql-codegen/cli';

// Operation types from the served schema: `make frontend-codegen` writes schema.graphql
// from `keywarden schema`, then this generates src/gql/ from the operations in src/.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown', Upload: 'File' },
      },
    },
  },
};

export default config;
