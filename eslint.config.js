// ESLint: typescript-eslint's type-aware checks, and the layout's import rules
// (../shared/CONVENTIONS.md "Layout": each folder one part, imports only pointing down), as
// no-restricted-imports on the import paths: each file's depth under src/<part> says how many
// `../` reach src/, so the rule is exact without a resolver (the resolvers import-x needs ship
// native bindings our registry mirror lacks for other platforms, which breaks npm ci).
// Import cycles, type imports included, are checked by madge in `npm run lint`.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Each part, and the parts it may not import (the complement of "may import"). */
const PARTS = {
  http: ['workers', 'demo', 'main.js'],
  schema: ['http', 'workers', 'queue', 'llm', 'reports', 'demo', 'main.js'],
  feeds: ['http', 'schema', 'services', 'workers', 'llm', 'reports', 'demo', 'main.js'],
  services: ['http', 'schema', 'feeds', 'workers', 'demo', 'main.js'],
  llm: ['http', 'schema', 'feeds', 'services', 'workers', 'queue', 'demo', 'main.js'],
  workers: ['http', 'schema', 'feeds', 'demo', 'main.js'],
  queue: ['http', 'schema', 'feeds', 'services', 'workers', 'llm', 'reports', 'demo', 'main.js'],
  reports: [
    'http',
    'schema',
    'feeds',
    'services',
    'workers',
    'llm',
    'queue',
    'platform',
    'generated',
    'demo',
    'main.js',
  ],
  platform: [
    'http',
    'schema',
    'feeds',
    'services',
    'workers',
    'llm',
    'queue',
    'reports',
    'demo',
    'main.js',
  ],
  demo: ['http', 'schema', 'feeds', 'workers', 'main.js'],
};

/** GraphQL lives in src/schema and src/http only. */
const GRAPHQL_FREE = new Set(['services', 'workers', 'feeds', 'llm', 'reports', 'platform', 'queue']);
const GRAPHQL_PACKAGES = {
  group: ['graphql', 'graphql/*', 'graphql-yoga', '@pothos/*'],
  message: 'GraphQL belongs to src/schema and src/http: throw a domain error, take row ids.',
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One no-restricted-imports per part and folder depth (a rule's options are not merged). */
const layoutRules = Object.entries(PARTS).flatMap(([part, forbidden]) =>
  [1, 2, 3, 4].map((depth) => ({
    files: [`src/${part}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^${'\\.\\./'.repeat(depth)}(${forbidden.map(escape).join('|')})(/|$)`,
              message: `src/${part} may not import these parts (the layout: ../shared/CONVENTIONS.md).`,
            },
            ...(GRAPHQL_FREE.has(part) ? [GRAPHQL_PACKAGES] : []),
          ],
        },
      ],
    },
  })),
);

export default tseslint.config(
  {
    ignores: ['node_modules', 'dist', '.data', 'src/generated', 'tests/generated', 'coverage'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layoutRules,
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
  // After eslint-config-prettier, which turns max-len off: Prettier wraps code at 100 columns
  // but leaves long strings, SQL in template literals and comments as they are.
  {
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 120, ignoreUrls: true }] },
  },
);
