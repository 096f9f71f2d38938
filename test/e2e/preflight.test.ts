// The page on one origin, the signer on another (bearer-token auth, CORS allow-list), as most
// apps deploy it. After create, sign-parts and complete go in the token form, which a browser
// sends without a CORS preflight: the signer, counting every request it gets, must see no OPTIONS
// for them. A signer with the token form turned off gets the JSON form (and its preflights).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PutBucketCorsCommand, S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { ALL_CHECKSUM_HEADERS } from '@chute/protocol';
import { bearerTokens, createSigner } from '@chute/signer';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Browser, launchChromium } from '../bench/lib/browser.js';
import { buildHarnessPage } from './lib/build.js';
import { MiB, tempFiles } from './lib/files.js';
import type { UploadOutcome } from './lib/harness.js';

const BUCKET = 'e2e-preflight';
const CREDS = { accessKeyId: 'chute-e2e', secretAccessKey: 'chute-e2e-secret-access-key-0123456789' };
const BEARER = 'e2e-preflight-bearer-token';

const files = tempFiles();
let dataDir: string;
let staticDir: string;
let r2: LocalR2;
let s3: S3Client;
let browser: Browser;
let pageServer: Server;
let pageOrigin: string;
const servers: Server[] = [];

/** A signer on its own port that logs every request it receives as `METHOD /path`. */
async function startSigner(tokenForm: boolean): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const signer = createSigner({
    s3: { bucket: BUCKET, endpoint: r2.endpoint, region: 'auto', forcePathStyle: true, credentials: CREDS },
    tokenSecrets: ['e2e-token-secret-that-is-at-least-32-bytes-long'],
    authenticate: bearerTokens({ [BEARER]: 'e2e-user' }),
    corsOrigins: [pageOrigin],
    rateLimit: false,
    tokenForm,
  });
  // node:http straight to the core (Request → Response): nothing in between answers OPTIONS.
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(`${req.method} ${url.pathname.replace(/\/api\/uploads\/[^/]+\//, '/api/uploads/:id/')}`);
    void (async () => {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readAll(req);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await signer.fetch(
        new Request(`http://${req.headers.host}${req.url}`, { method: req.method as string, headers, ...(body ? { body } : {}) }),
        { ip: '127.0.0.1' },
      );
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch((err: unknown) => {
      // The page went away mid-answer (it is closed once its upload is done): nothing to answer.
      if (res.headersSent || req.destroyed) return void res.destroy();
      console.error('[signer]', err);
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'chute-e2e-preflight-'));
  staticDir = await buildHarnessPage();
  pageServer = createServer((req, res) => {
    // The built page: index.html and its hashed assets, nothing else.
    const name = path.normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    let bytes: Buffer;
    try {
      bytes = readFileSync(path.join(staticDir, name));
    } catch {
      return void res.writeHead(404).end();
    }
    {
      const type = name.endsWith('.html') ? 'text/html' : name.endsWith('.js') ? 'text/javascript' : name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(bytes);
    }
  });
  await new Promise<void>((ok) => pageServer.listen(0, '127.0.0.1', ok));
  // `localhost` vs the signer's `127.0.0.1`: another origin, so every signer call is cross-origin.
  pageOrigin = `http://localhost:${(pageServer.address() as { port: number }).port}`;
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir, credentials: CREDS, buckets: [BUCKET], sweepIntervalMs: 0 });
  s3 = new S3Client({ endpoint: r2.endpoint, region: 'auto', forcePathStyle: true, credentials: CREDS });
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: BUCKET,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [pageOrigin],
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['content-type', ...ALL_CHECKSUM_HEADERS, 'x-amz-*'],
            ExposeHeaders: ['ETag', ...ALL_CHECKSUM_HEADERS.filter((h) => h.startsWith('x-amz'))],
            MaxAgeSeconds: 3600,
          },
        ],
      },
    }),
  );
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const s of [...servers, pageServer]) await new Promise((ok) => s?.close(ok));
  s3?.destroy();
  await r2?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(staticDir, { recursive: true, force: true });
  files.cleanup();
});

async function uploadFrom(signerUrl: string, file: { path: string }): Promise<UploadOutcome> {
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.goto(`${pageOrigin}/index.html`);
  await page.waitForFunction(() => 'harness' in globalThis, undefined, { timeout: 10_000 });
  await page.setInputFiles('#file', file.path);
  // Small sign batches: several sign calls per upload, each one a chance for a preflight.
  const opts = { endpoint: signerUrl, authToken: BEARER, concurrency: 4, partSize: 5 * MiB, signBatchSize: 2 };
  const out = await page.evaluate((o) => (globalThis as unknown as { harness: { upload(o: unknown): Promise<UploadOutcome> } }).harness.upload(o), opts);
  await page.close();
  return out;
}

async function objectSha256(key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const count = (seen: string[], line: string) => seen.filter((s) => s === line).length;

describe('signer on another origin', () => {
  test('after create, no OPTIONS reaches the signer: sign-parts and complete are CORS-simple', async () => {
    const signer = await startSigner(true);
    const file = files.make('preflight-40m.bin', 40 * MiB);
    const out = await uploadFrom(signer.url, file);
    expect(out.error).toBeUndefined();
    expect(out.result?.verifiedBy.algorithm).toBe('CRC64NVME');
    expect(await objectSha256(out.result?.key as string)).toBe(file.sha256);
    const seen = signer.seen;
    // Create carries the user's bearer token: its preflight is the only one.
    expect(count(seen, 'OPTIONS /api/uploads')).toBe(1);
    expect(count(seen, 'POST /api/uploads')).toBe(1);
    expect(count(seen, 'POST /api/uploads/:id/parts')).toBeGreaterThanOrEqual(2);
    expect(count(seen, 'POST /api/uploads/:id/complete')).toBe(1);
    expect(seen.filter((s) => s.startsWith('OPTIONS') && s !== 'OPTIONS /api/uploads'), seen.join('\n')).toEqual([]);
  });

  test('a signer with tokenForm: false: the client falls back to the JSON form (preflighted) and the upload completes', async () => {
    const signer = await startSigner(false);
    const file = files.make('preflight-12m.bin', 12 * MiB);
    const out = await uploadFrom(signer.url, file);
    expect(out.error).toBeUndefined();
    expect(await objectSha256(out.result?.key as string)).toBe(file.sha256);
    const seen = signer.seen;
    expect(count(seen, 'OPTIONS /api/uploads/:id/parts')).toBeGreaterThanOrEqual(1);
    expect(count(seen, 'OPTIONS /api/uploads/:id/complete')).toBe(1);
    expect(count(seen, 'POST /api/uploads/:id/complete')).toBe(1);
  });
});
