// A throwaway redis-server on a free loopback port (Debian's `redis-server`; .ci/run installs it).
// Missing is a failure with the fix, never a skip: the shared-limits tests must run.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
}

const BINARIES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

async function startOnce(bin: string): Promise<RedisServer> {
  const port = await freePort();
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`redis-server did not get ready in 10 s:\n${out}`)), 10_000);
    const onData = () => {
      if (!/Ready to accept connections/.test(out)) return;
      clearTimeout(timer);
      ok();
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startRedis(): Promise<RedisServer> {
  const bin = BINARIES.find((b) => existsSync(b));
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server (the shared-limits tests need a real Redis; .ci/run installs it)');
  // Another process may take the free port between the probe and the start: try again once.
  return startOnce(bin).catch(() => startOnce(bin));
}
