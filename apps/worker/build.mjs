// Bundles the Worker with esbuild (what `wrangler deploy` would do, plus one fix): the AWS SDK's
// browser build parses XML with DOMParser, which Workers lack, so its Node parser (plain JS) is
// used instead. Output: dist/worker.js, deployed as is (`no_bundle` in wrangler.toml).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
/** `--source`: workspace packages from their TypeScript sources (tests; no `pnpm build` needed). */
const source = process.argv.includes('--source');
const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice(10) ?? join(here, 'dist/worker.js');

const workerXmlParser = {
  name: 'aws-sdk-xml-parser-for-workers',
  setup(b) {
    b.onResolve({ filter: /^\.\/xml-parser(\.js)?$/ }, (args) =>
      /[\\/]@aws-sdk[\\/]xml-builder[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), 'xml-parser.js') } : undefined,
    );
  },
};

await build({
  entryPoints: [join(here, 'src/index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2023',
  conditions: [...(source ? ['source'] : []), 'workerd', 'worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
  // Provided by workerd under the nodejs_compat flag.
  external: ['node:*', 'cloudflare:*'],
  plugins: [workerXmlParser],
  minify: false,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
