// Builds bench pages with Vite (workspace packages from their TypeScript sources, as
// the tests resolve them) into `outDir`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, defaultClientConditions } from 'vite';

/** Builds `<pageDir>/<page>.html` for each page that exists; returns the pages built. */
export async function buildPages(pageDir: string, outDir: string, pages: string[]): Promise<string[]> {
  const present = pages.filter((p) => existsSync(path.join(pageDir, `${p}.html`)));
  await build({
    root: pageDir,
    base: './',
    logLevel: 'warn',
    configFile: false,
    resolve: { conditions: ['source', ...defaultClientConditions] },
    worker: { format: 'es' },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: process.env.CHUTE_BENCH_NO_MINIFY !== '1', // unminified for profiling
      reportCompressedSize: false,
      rollupOptions: { input: Object.fromEntries(present.map((p) => [p, path.join(pageDir, `${p}.html`)])) },
    },
  });
  return present;
}
