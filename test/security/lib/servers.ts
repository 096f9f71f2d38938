// The real servers the security suite attacks: local-r2 as the bucket (its CLI, a child process),
// chute-server processes in each auth mode (from source, as users run it), and redis-server.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Cli, runCli, startCli } from '../../../apps/server/test/cli.js';
import { type Service, startLocalR2Process } from '../../reliability/lib/services.js';

export const BUCKET = 'security';
export const CREDS = { accessKeyId: 'chute-security-key', secretAccessKey: 'chute-security-secret-0123456789abcdef' };
export const TOKEN_SECRET = 'security-suite-token-secret-0123456789abcdef';
export const JWT_SECRET = 'security-suite-jwt-secret-0123456789abcdef';
/** A user id long enough that its key prefix alone exceeds S3's 1024-byte key limit. */
export const LONG_USER = 'é'.repeat(200); // 200 characters, 1200 bytes once URL-encoded

/** bearer token → user id */
export const USERS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  mallory: 'mallory-token-0123456789abcdef',
  quota: 'quota-token-0123456789abcdef',
  long: 'long-user-token-0123456789abcdef',
} as const;
export type User = keyof typeof USERS;
const userId = (u: User) => (u === 'long' ? LONG_USER : u);

export interface Store {
  r2: Service;
  s3: S3Client;
  dataDir: string;
  close(): Promise<void>;
}

export async function startStore(): Promise<Store> {
  process.env.CHUTE_USE_SOURCE ??= '1';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chute-security-'));
  const r2 = await startLocalR2Process(dataDir, BUCKET, 0, ['--access-key-id', CREDS.accessKeyId, '--secret-access-key', CREDS.secretAccessKey]);
  const s3 = new S3Client({
    endpoint: r2.url,
    region: 'auto',
    forcePathStyle: true,
    credentials: CREDS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  return {
    r2,
    s3,
    dataDir,
    async close() {
      s3.destroy();
      await r2.kill().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** chute-server against the store, static bearer tokens for every user of USERS; `env` overrides. */
export function bucketEnv(store: Store, env: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    S3_ENDPOINT: store.r2.url,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: CREDS.accessKeyId,
    S3_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: TOKEN_SECRET,
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: Object.entries(USERS)
      .map(([u, t]) => `${t}:${userId(u as User)}`)
      .join(','),
    RATE_LIMIT_CAPACITY: '0',
    ...env,
  };
}

export function startServer(env: Record<string, string>): Promise<Cli> {
  return startCli(env);
}

/** chute-server must refuse to start: resolves with its exit code and output. */
export async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const run = runCli([], env);
  // A server that starts has accepted the configuration: stop it at once (the attack succeeded).
  const ready = setInterval(() => {
    if (/Chute is ready/.test(run.output())) run.proc.kill('SIGKILL');
  }, 50);
  const timer = setTimeout(() => run.proc.kill('SIGKILL'), 30_000);
  const code = await run.exit;
  clearInterval(ready);
  clearTimeout(timer);
  return { code, output: run.output() };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Redis {
  url: string;
  close(): Promise<void>;
}

/** A throwaway redis-server on loopback (Debian's package; .ci/run installs it). */
export async function startRedis(): Promise<Redis> {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((b) => existsSync(b));
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server (the security suite needs it for shared limits)');
  const port = await freePort();
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    const check = setInterval(() => {
      if (/Ready to accept connections/.test(out)) {
        clearInterval(check);
        clearTimeout(t);
        resolve();
      }
    }, 20);
    proc.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(t);
      reject(new Error(`redis-server exited (${code}):\n${out}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

export const bearer = (u: User) => ({ authorization: `Bearer ${USERS[u]}` });
