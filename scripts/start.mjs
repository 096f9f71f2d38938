// `pnpm start` (after the build): the signing service with the embedded local-r2, serving the
// built demo from the same origin. Prints the URL to open. Configure with the env variables of
// apps/server/README.md (e.g. PORT=9999 pnpm start, or a real bucket with S3_BUCKET=…).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../apps/server/dist/cli.js', import.meta.url));
const demo = fileURLToPath(new URL('../apps/demo/dist', import.meta.url));
if (!existsSync(cli)) {
  console.error('apps/server is not built: run `pnpm start` (it builds first) or `pnpm run build`.');
  process.exit(1);
}
if (!existsSync(demo)) console.warn(`note: ${demo} does not exist; the API runs, the demo page will 404 until it is built.`);

const env = {
  ...process.env,
  STATIC_DIR: process.env.STATIC_DIR ?? demo,
  DATA_DIR: process.env.DATA_DIR ?? `${root}.data`,
  // Terminal-friendly: warnings (local mode, open dev mode) and the ready line; set LOG_LEVEL=info for request logs.
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
const child = spawn(process.execPath, [cli], { stdio: 'inherit', env, cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
