import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

// The root config resolves with Vite's `module` condition, which makes Node load the AWS SDK's
// dist-es (extensionless ESM it cannot import). Until the root config drops it, run the tests of
// the packages that use the SDK with: npx vitest run --config packages/signer/vitest.config.ts <dirs>
const conditions = ['source', 'node', 'import', 'default'];
export default defineConfig({ ...root, resolve: { conditions }, ssr: { resolve: { conditions } } });
