import { defineConfig } from 'vitest/config';

// The opt-in tier that needs a real ProxySQL (PROXYSQL_BIN): `npm run test:proxysql`. Never part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/proxysql/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One ProxySQL + two MariaDB at a time: the figures some tests check are load-sensitive.
    fileParallelism: false,
  },
});
