import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

export interface Cli {
  proc: ChildProcess;
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run `chute-server` from source in its own Node process (as `pnpm start` would, minus the build). */
export function runCli(args: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    // Only what the test gives: no stray S3_* or AUTH_* from the developer's shell.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  return { proc, output: () => out, exit };
}

export async function startCli(env: Record<string, string>): Promise<Cli> {
  const { proc, output, exit } = runCli([], env);
  const url = await new Promise<string>((ok, fail) => {
    const timer = setInterval(() => {
      const m = /Chute is ready: open (\S+)/.exec(output());
      if (m) {
        clearInterval(timer);
        ok(m[1] as string);
      }
    }, 50);
    void exit.then((code) => {
      clearInterval(timer);
      fail(new Error(`chute-server exited with ${code}:\n${output()}`));
    });
  });
  return {
    proc,
    url,
    output,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exit;
    },
  };
}
