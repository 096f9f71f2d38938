import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

// As packages/signer/vitest.config.ts: without Vite's `module` condition, so Node loads the AWS
// SDK's dist-cjs rather than its extensionless dist-es. Run: npx vitest run --config test/e2e/vitest.config.ts test/e2e
const conditions = ['source', 'node', 'import', 'default'];
export default defineConfig({
  ...root,
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: { ...root.test, include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, fileParallelism: false },
});
