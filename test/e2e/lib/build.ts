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

/**
 * The real demo app (apps/demo) with its own Vite config. `development` builds React's dev
 * runtime, where StrictMode double-invokes initialisers and effects.
 */
export async function buildDemo(mode: 'production' | 'development' = 'production'): Promise<string> {
  const root = path.resolve(E2E_DIR, '../../apps/demo');
  const outDir = path.join(E2E_DIR, 'tmp', `demo-${mode}-${process.pid}`);
  await build({
    root,
    mode,
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'error',
    ...(mode === 'development' ? { define: { 'process.env.NODE_ENV': JSON.stringify('development') } } : {}),
    build: { outDir, emptyOutDir: true, sourcemap: false, minify: mode === 'production' },
  });
  return outDir;
}
