// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/**', 'assets/**', 'dist-jsii/**', 'dist/**', 'cdk.out/**', 'node_modules/**', 'coverage/**', '.scratch/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // A synchronous child process blocks a vitest worker's event loop, and on a busy machine it outlasts the
    // worker's 60 s RPC timeout: tests, their helpers and the local tools use local/run.ts instead.
    files: ['**/*.test.ts', 'test/**/*.ts', 'local/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['child_process', 'node:child_process'].map((name) => ({
            name,
            importNames: ['execFileSync', 'execSync', 'spawnSync'],
            message: 'use run() or output() from local/run.ts: a synchronous child process blocks the vitest worker',
          })),
        },
      ],
    },
  },
);
