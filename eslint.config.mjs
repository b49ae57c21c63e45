import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.lab/', '.cache/', 'reports/', 'loadtest/k6/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      // Type-aware rules read the program tsconfig.json builds (one project: lint stays a single pass).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's runner tracks the promises its test/describe calls return; awaiting them is not needed.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['service/src/**/*.ts'],
    ignores: ['service/src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only service/src/config reads process.env (CONVENTIONS 3).',
        },
      ],
    },
  },
  {
    // The domain knows no driver, server or adapter: ports beside their use cases, adapters outside.
    files: ['service/src/orders/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'pg',
                'pg-*',
                'kafkajs',
                'express',
                '@grpc/*',
                '@opentelemetry/*',
                'winston',
                'prom-client',
              ],
              message: 'orders/ is the domain: no drivers or servers (CONVENTIONS 5).',
            },
            {
              group: ['../*', '!../orders'],
              message: 'orders/ imports only itself (and node:); adapters depend on it, not the other way.',
            },
          ],
        },
      ],
    },
  },
);
