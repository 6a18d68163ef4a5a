/**
 * Runs the benchmark's own tests (`npx vitest run --config bench/vitest.config.ts`): the project's
 * vitest.config.ts does not include bench/** yet. Same settings, bench tests only.
 */
import * as path from 'node:path';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config';

export default defineConfig({
  ...base,
  root: path.resolve(__dirname, '..'),
  // Replaced, not merged (mergeConfig would append to the project's include list).
  test: { ...base.test, include: ['bench/**/*.test.ts'] },
});
