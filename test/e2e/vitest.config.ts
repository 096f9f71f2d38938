import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

// The browser suite alone, one file at a time (each file runs a Chromium, a store and a signer;
// in parallel they would fight over the CPU the long-task check measures):
//   npx vitest run --config test/e2e/vitest.config.ts
export default defineConfig({
  ...root,
  test: { ...root.test, include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, fileParallelism: false },
});
