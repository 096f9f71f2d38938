import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LocalR2, type LocalR2Options, startLocalR2 } from '@chute/local-r2';
import { bearerTokens, createSigner, type Signer, type SignerOptions } from '@chute/signer';
import { createCRC64 } from 'hash-wasm';

export const TOKENS = { 'alice-secret-token': 'alice', 'bob-secret-token-x': 'bob' };
export const SECRETS = ['s'.repeat(40)];
export const BUCKET = 'chute-test';

/** A real local-r2 on loopback with one bucket, in a temp dir removed on close. */
export async function startStore(options: Partial<LocalR2Options> = {}): Promise<{ r2: LocalR2; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chute-signer-'));
  const r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {}, ...options });
  return {
    r2,
    async close() {
      await r2.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function signerFor(r2: LocalR2, over: Partial<SignerOptions> = {}): Signer {
  return createSigner({
    s3: { bucket: BUCKET, endpoint: r2.endpoint, forcePathStyle: true, credentials: r2.credentials },
    tokenSecrets: SECRETS,
    authenticate: bearerTokens(TOKENS),
    rateLimit: false,
    ...over,
  });
}

export type Who = 'alice' | 'bob' | 'nobody';
const bearer: Record<Who, string | undefined> = { alice: 'alice-secret-token', bob: 'bob-secret-token-x', nobody: undefined };

/** Call the signer like a browser would (no server needed: the core is Request → Response). */
export async function api<T = Record<string, unknown>>(
  signer: Signer,
  who: Who,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const h = new Headers(headers);
  const token = bearer[who];
  if (token) h.set('authorization', `Bearer ${token}`);
  if (body !== undefined) h.set('content-type', 'application/json');
  const res = await signer.fetch(
    new Request(`http://signer.test${path}`, { method, headers: h, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) }),
    { ip: '127.0.0.1' },
  );
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
}

export const md5b64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
export const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
export const sha256b64 = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');
export async function crc64nvme(b: Uint8Array): Promise<string> {
  const h = await createCRC64('9a6c9329ac4bc9b5');
  h.init();
  h.update(b);
  return Buffer.from(h.digest('hex'), 'hex').toString('base64');
}
/** Compare large byte arrays by digest (deep equality of MiBs is very slow in vitest). */
export const digest = (b: Uint8Array) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`;
export const bytes = (n: number) => new Uint8Array(randomBytes(n));

/** Send a presigned request as a browser would: exactly the signed headers, the body. */
export function send(req: { method: string; url: string; headers: Record<string, string> }, body?: Uint8Array, extra: Record<string, string> = {}) {
  return fetch(req.url, { method: req.method, headers: { ...req.headers, ...extra }, ...(body ? { body } : {}) });
}

/** fixtures/express-app.ts in its own Node process (real module loading, real sockets), mounted at /signer. */
export async function startExpressApp(r2: LocalR2): Promise<{ base: string; port: number; stop(): void }> {
  const file = fileURLToPath(new URL('./fixtures/express-app.ts', import.meta.url));
  const app: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: { ...process.env, R2_ENDPOINT: r2.endpoint, R2_KEY: r2.credentials.accessKeyId, R2_SECRET: r2.credentials.secretAccessKey, BUCKET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    app.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    app.once('exit', (code) => fail(new Error(`express app exited with ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}/signer`, port, stop: () => void app.kill('SIGTERM') };
}
