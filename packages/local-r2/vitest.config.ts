import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Same as the root config, minus the `module` condition: Vitest passes conditions to the test
// process (`--conditions module`), and the AWS SDK's ESM build (@aws-sdk/checksums dist-es) is not
// loadable by Node. Run: npx vitest run --config packages/local-r2/vitest.config.ts
const conditions = ['source', ...defaultServerConditions.filter((c) => c !== 'module')];
export default defineConfig({
  root: new URL('../..', import.meta.url).pathname,
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/local-r2/src/**/*.test.ts', 'packages/local-r2/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
