// Lint: TypeScript rules everywhere, and purity of the maths libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impure = [
  '@nestjs/*',
  'typeorm',
  'typeorm/*',
  'pg',
  'pg-*',
  'onnxruntime-node',
  '@electric-sql/*',
  'fastify',
  'fastify/*',
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'apps/console/dist/**', '**/*.js', '**/*.mjs', '**/*.cjs', '.slotwise/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // libs/bandit, libs/stats, libs/assignment, libs/ope and libs/features are pure maths, and libs/contracts is shared
    // with the browser: no framework, database or model runtime.
    files: [
      'libs/bandit/**/*.ts',
      'libs/stats/**/*.ts',
      'libs/assignment/**/*.ts',
      'libs/ope/**/*.ts',
      'libs/features/**/*.ts',
      'libs/contracts/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: impure,
              message:
                'libs/bandit, libs/stats, libs/assignment, libs/ope, libs/features and libs/contracts must stay pure TypeScript.',
            },
          ],
        },
      ],
    },
  },
  {
    // The contracts run in the console's browser bundle too: no Node built-ins, no model runtime (libs/ranker).
    files: ['libs/contracts/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...impure, 'node:*', '@slotwise/ranker'],
              message: 'libs/contracts is shared with the browser: zod and the pure libraries only.',
            },
          ],
        },
      ],
    },
  },
  {
    // Test fixtures and the ranker benchmark live in libs/ranker-fixtures, out of the production barrel.
    files: ['libs/ranker/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@slotwise/ranker-fixtures', '**/ranker-fixtures/**', '**/fixtures/**'],
              message: 'libs/ranker production code must not import its test fixtures (libs/ranker-fixtures).',
            },
          ],
        },
      ],
    },
  },
  {
    // No app imports another app (apps/api, apps/simulator, apps/console): shared code lives in libs/.
    files: ['apps/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/simulator/src/**', '**/console/src/**', '**/apps/*/src/**'],
              message: 'apps/api must not import another app: move shared code into libs/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/api/src/**', '**/console/src/**', '**/apps/*/src/**'],
              message: 'apps/simulator must not import another app: move shared code into libs/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/console/**/*.ts', 'apps/console/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/api/src/**', '**/simulator/src/**', '**/apps/*/src/**'],
              message: 'apps/console must not import another app: use @slotwise/contracts and @slotwise/client.',
            },
          ],
        },
      ],
    },
  },
  {
    // Only the config module reads the environment.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['apps/api/src/config/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through AppConfig.' },
      ],
    },
  },
);
