// Builds a page with Vite (programmatically) into test/e2e/tmp; workspace packages resolve to
// their TypeScript sources through the `source` condition, as in the demo.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');

/** The harness page of test/e2e/page (engine + stock Uppy on `window.harness`). */
export async function buildHarnessPage(): Promise<string> {
  const outDir = path.join(E2E_DIR, 'tmp', `page-${process.pid}`);
  await build({
    root: path.join(E2E_DIR, 'page'),
    configFile: false,
    logLevel: 'error',
    resolve: { conditions: ['source'] },
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 2000 },
  });
  return outDir;
}

/** The real demo app (apps/demo) with its own Vite config. */
export async function buildDemo(): Promise<string> {
  const root = path.resolve(E2E_DIR, '../../apps/demo');
  const outDir = path.join(E2E_DIR, 'tmp', `demo-${process.pid}`);
  await build({
    root,
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  return outDir;
}
