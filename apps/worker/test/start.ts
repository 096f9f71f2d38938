// The Worker under workerd (Cloudflare's runtime) via miniflare, as `wrangler dev` runs it:
// bundled by build.mjs from the workspace sources, nodejs_compat, the LIMITS Durable Object,
// optional static assets. Used by this package's tests and by test/e2e's stack.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';

const BUILD = fileURLToPath(new URL('../build.mjs', import.meta.url));
let bundled: Promise<string> | undefined;

/** Bundles once per test process (about 1 s). */
export function bundleWorker(): Promise<string> {
  bundled ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'chute-worker-')), 'worker.js');
    await promisify(execFile)(process.execPath, [BUILD, '--source', `--outfile=${out}`]);
    return out;
  })();
  return bundled;
}

export interface RunningWorker {
  url: string;
  port: number;
  mf: Miniflare;
  /** What workerd wrote to stdout and stderr (the Worker's console), with `captureOutput`; else ''. */
  output(): string;
  close(): Promise<void>;
}

export async function startWorker(o: { vars: Record<string, string | boolean>; assetsDir?: string; port?: number; durableLimits?: boolean; captureOutput?: boolean }): Promise<RunningWorker> {
  const scriptPath = await bundleWorker();
  let out = '';
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: '2026-04-20',
    compatibilityFlags: ['nodejs_compat'],
    bindings: o.vars,
    ...(o.durableLimits === false ? {} : { durableObjects: { LIMITS: { className: 'ChuteLimits', useSQLite: true } } }),
    ...(o.assetsDir ? { assets: { directory: o.assetsDir, binding: 'ASSETS', routerConfig: { has_user_worker: true } } } : {}),
    ...(o.captureOutput
      ? {
          handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
            for (const s of [stdout, stderr]) s.on('data', (d: Buffer) => (out += d.toString()));
          },
        }
      : {}),
    host: '127.0.0.1',
    port: o.port ?? 0,
  });
  const url = (await mf.ready).origin;
  return { url, port: Number(new URL(url).port), mf, output: () => out, close: () => mf.dispose() };
}
