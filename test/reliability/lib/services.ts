// Runs Chute's servers as child processes (as users run them), so a test can kill -9 them and a
// bench can read their peak RSS. Prefers the built `dist/` entry; falls back to the TypeScript
// source through tsx (`--conditions=source`) when the package has not been built.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `node` + args that run `<pkgDir>/src/<name>.ts` (or its built `dist/<name>.js`). */
export function nodeEntry(pkgDir: string, name: string, preferSource = process.env.CHUTE_USE_SOURCE === '1'): string[] {
  const dist = path.join(repoRoot, pkgDir, 'dist', `${name}.js`);
  const src = path.join(repoRoot, pkgDir, 'src', `${name}.ts`);
  if (!preferSource && existsSync(dist)) return [dist];
  if (!existsSync(src)) throw new Error(`${pkgDir}: neither dist/${name}.js nor src/${name}.ts exists`);
  return ['--conditions=source', '--import', 'tsx', src];
}

export interface Service {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process printed (for failure messages). */
  output(): string;
  /** Peak resident set size so far (Linux VmHWM), bytes. */
  peakRss(): number;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string>;
  /** A line the service prints when ready; group 1 is its URL. */
  ready: RegExp;
  timeoutMs?: number;
  cwd?: string;
}

export function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function spawnService(opts: SpawnOptions): Promise<Service> {
  const child = spawn(process.execPath, opts.args, {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let lastPeak = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service = (url: string): Service => ({
    url,
    pid: child.pid ?? -1,
    child,
    output: () => out,
    peakRss: () => {
      if (child.exitCode === null && child.signalCode === null) lastPeak = Math.max(lastPeak, peakRssOf(child.pid ?? -1));
      return lastPeak;
    },
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      lastPeak = Math.max(lastPeak, peakRssOf(child.pid ?? -1));
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not become ready in time:\n${out.slice(-2000)}`));
    }, opts.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      const m = opts.ready.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(service(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
}

/** local-r2's CLI on loopback (port 0 = a free port; pass the old port to restart in place). */
export function startLocalR2Process(dataDir: string, bucket: string, port = 0, extraArgs: string[] = []): Promise<Service> {
  const hasCli = existsSync(path.join(repoRoot, 'packages/local-r2/src/cli.ts')) || existsSync(path.join(repoRoot, 'packages/local-r2/dist/cli.js'));
  const entry = hasCli
    ? nodeEntry('packages/local-r2', 'cli')
    : ['--conditions=source', '--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'local-r2-host.ts')];
  return spawnService({
    args: [
      ...entry,
      ...['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--bucket', bucket],
      ...extraArgs,
    ],
    ready: /local-r2 listening on (http:\/\/[\d.:]+)/,
  });
}
