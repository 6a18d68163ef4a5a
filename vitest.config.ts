import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'runtime/**/*.test.ts', 'local/**/*.test.ts', 'cli/**/*.test.ts', 'app/**/*.test.ts', 'bench/**/*.test.ts'],
    // The real-ProxySQL tier needs a binary CI does not have: `npm run test:proxysql` (vitest.proxysql.config.ts).
    exclude: ['test/proxysql/**', 'node_modules/**'],
    // Unit tests skip aws-cdk-lib's built-in CloudFormation validation (5-6 s per synth); the reference app
    // is validated once, with it on, in test/app (see scripts/test.sh).
    env: { CDK_VALIDATION: 'false' },
    globalSetup: ['test/global-setup.ts'],
    // Keeps each worker answering vitest's RPC on a busy machine; child processes are asynchronous (local/run.ts).
    setupFiles: ['test/support/yield-between-tests.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
