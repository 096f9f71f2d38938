// The real stack on loopback, in the test process: @chute/local-r2 (the bucket), the signer's
// Express adapter serving the API and the built page on one origin, and optionally a TCP proxy
// between the browser/signer and the bucket so tests can cut the network. With `store` and
// `signer: 'chute-server'` the same stack runs on another S3 store (Ceph radosgw) behind the real
// chute-server CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startLocalR2 } from '@chute/local-r2';
import { ALL_CHECKSUM_HEADERS } from '@chute/protocol';
import type { Limits } from '@chute/signer';
import { startCli } from '../../../apps/server/test/cli.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';


export const BUCKET = 'e2e';
const CREDS = { accessKeyId: 'chute-e2e', secretAccessKey: 'chute-e2e-secret-access-key-0123456789' };
const TOKEN_SECRET = 'e2e-token-secret-that-is-at-least-32-bytes-long';

export interface StackOptions {
  /** Directory with the built page (served at /). */
  staticDir: string;
  limits?: Partial<Limits>;
  /** Route the bucket through a TCP proxy the test controls (network drops). */
  proxy?: boolean;
  /** A store that accepts and ignores x-amz-checksum-* and echoes none (like Ceph radosgw). */
  ignoreChecksums?: boolean;
  /**
   * An S3 store started elsewhere (e.g. Ceph radosgw from test/stores/radosgw.ts) instead of a
   * fresh local-r2. The stack neither creates its bucket nor sets its CORS (run the setup CLI for
   * `origin`), and leaves the store running on close.
   */
  store?: ExternalStore;
  /**
   * Who signs and serves the page: the signer's Express adapter (lib/serve.ts, the default) or the
   * real `chute-server` CLI (apps/server, from source) in bucket mode with AUTH_MODE=open and
   * STATIC_DIR. chute-server takes `limits.urlTtlSeconds` and `limits.allowedContentTypes` only.
   * `worker`: apps/worker under workerd (miniflare), the page from its ASSETS binding, same limits.
   */
  signer?: 'express' | 'chute-server' | 'worker';
}

export interface ExternalStore {
  endpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface Stack {
  origin: string;
  bucket: string;
  /** Where the signer's presigned URLs point (the proxy when there is one). */
  storeEndpoint: string;
  s3: S3Client;
  proxy?: TcpProxy;
  /** Stops the signer's HTTP server (connections cut) and starts a fresh signer on the same port. */
  restartSigner(downMs: number): Promise<void>;
  objectSha256(key: string): Promise<string>;
  multipartUploads(): Promise<number>;
  /** Parts stored so far in the open multipart uploads (of keys containing `keyPart`, if given). */
  uploadedParts(keyPart?: string): Promise<number>;
  /** Keys of the open multipart uploads. */
  openUploads(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const ext = options.store;
  const dataDir = ext ? undefined : mkdtempSync(path.join(os.tmpdir(), 'chute-e2e-r2-'));
  const r2 = dataDir
    ? await startLocalR2({ host: '127.0.0.1', port: 0, dataDir, credentials: CREDS, buckets: [BUCKET], sweepIntervalMs: 0, ignoreChecksums: options.ignoreChecksums ?? false })
    : undefined;
  const store: ExternalStore = ext ?? { endpoint: (r2 as NonNullable<typeof r2>).endpoint, region: 'auto', bucket: BUCKET, credentials: CREDS };
  const bucket = store.bucket;
  const storeUrl = new URL(store.endpoint);
  const proxy = options.proxy ? await startTcpProxy({ host: storeUrl.hostname, port: Number(storeUrl.port) }) : undefined;
  const storeEndpoint = proxy ? proxy.url : store.endpoint;
  const s3 = new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: true,
    credentials: store.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (!ext) {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['*'],
              AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
              AllowedHeaders: ['content-type', ...ALL_CHECKSUM_HEADERS, 'x-amz-*'],
              ExposeHeaders: ['ETag', ...ALL_CHECKSUM_HEADERS.filter((h) => h.startsWith('x-amz'))],
              MaxAgeSeconds: 3600,
            },
          ],
        },
      }),
    );
  }

  const serveConfig = {
    staticDir: options.staticDir,
    storeEndpoint,
    region: store.region,
    bucket,
    credentials: store.credentials,
    tokenSecret: TOKEN_SECRET,
    ...(options.limits ? { limits: options.limits } : {}),
  };
  const spawnSigner = options.signer === 'chute-server' ? spawnChuteServer : options.signer === 'worker' ? spawnWorker : spawnServer;
  let server = await spawnSigner({ ...serveConfig, port: 0 });
  const port = server.port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    bucket,
    storeEndpoint,
    s3,
    ...(proxy ? { proxy } : {}),
    async restartSigner(downMs) {
      await server.kill();
      await new Promise((r) => setTimeout(r, downMs));
      // The port was just freed; on a loaded machine the first bind can still fail: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          server = await spawnSigner({ ...serveConfig, port });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async objectSha256(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const hash = createHash('sha256');
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
      return hash.digest('hex');
    },
    async openUploads() {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
      return uploads.map((u) => u.Key as string);
    },
    async uploadedParts(keyPart) {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
      let n = 0;
      for (const u of uploads) {
        if (keyPart && !u.Key?.includes(keyPart)) continue;
        const res = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key as string, UploadId: u.UploadId as string }));
        n += res.Parts?.length ?? 0;
      }
      return n;
    },
    async multipartUploads() {
      const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return res.Uploads?.length ?? 0;
    },
    async close() {
      await server.kill();
      await proxy?.close();
      s3.destroy();
      await r2?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

type ServeConfig = {
  port: number;
  staticDir: string;
  storeEndpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tokenSecret: string;
  limits?: Partial<Limits>;
};

/** Starts serve.ts under tsx (workspace packages from source); resolves once it listens. */
async function spawnServer(config: ServeConfig): Promise<{ port: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SERVE], {
    cwd: REPO,
    env: { ...process.env, CHUTE_E2E_SERVE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('signer process did not start in 60 s')), 60_000);
    timer.unref();
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`signer process exited with ${code}`)));
  });
  return {
    port,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** The real chute-server CLI (apps/server from source) in bucket mode; resolves once it is ready. */
async function spawnChuteServer(config: ServeConfig): Promise<{ port: number; kill(): Promise<void> }> {
  const { urlTtlSeconds, allowedContentTypes, ...rest } = config.limits ?? {};
  if (Object.keys(rest).length) throw new Error(`startStack: chute-server takes no limits ${Object.keys(rest).join(', ')} here`);
  const cli = await startCli({
    HOST: '127.0.0.1',
    PORT: String(config.port),
    S3_ENDPOINT: config.storeEndpoint,
    S3_REGION: config.region,
    S3_BUCKET: config.bucket,
    S3_ACCESS_KEY_ID: config.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: config.tokenSecret,
    AUTH_MODE: 'open',
    STATIC_DIR: config.staticDir,
    LOG_LEVEL: process.env.CHUTE_E2E_VERBOSE ? 'info' : 'warn',
    ...(urlTtlSeconds !== undefined ? { URL_TTL_SECONDS: String(urlTtlSeconds) } : {}),
    ...(allowedContentTypes ? { ALLOWED_CONTENT_TYPES: allowedContentTypes.join(',') } : {}),
  });
  // Its log after the start (warnings and errors, or everything with CHUTE_E2E_VERBOSE) goes to the test's stderr.
  let shown = process.env.CHUTE_E2E_VERBOSE ? 0 : cli.output().length;
  const forward = () => {
    const out = cli.output();
    if (out.length > shown) process.stderr.write(out.slice(shown));
    shown = out.length;
  };
  cli.proc.stdout?.on('data', forward);
  cli.proc.stderr?.on('data', forward);
  return { port: Number(new URL(cli.url).port), kill: async () => void (await cli.stop('SIGKILL')) };
}

/** apps/worker under workerd (miniflare) with the same settings as spawnChuteServer; the page from ASSETS. */
async function spawnWorker(config: ServeConfig): Promise<{ port: number; kill(): Promise<void> }> {
  const { urlTtlSeconds, allowedContentTypes, ...rest } = config.limits ?? {};
  if (Object.keys(rest).length) throw new Error(`startStack: the worker takes no limits ${Object.keys(rest).join(', ')} here`);
  // Loaded only here: miniflare stays out of the other browser tests.
  const { startWorker } = await import('../../../apps/worker/test/start.js');
  const w = await startWorker({
    port: config.port,
    assetsDir: config.staticDir,
    vars: {
      S3_ENDPOINT: config.storeEndpoint,
      S3_REGION: config.region,
      S3_BUCKET: config.bucket,
      S3_ACCESS_KEY_ID: config.credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: config.credentials.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      TOKEN_SECRETS: config.tokenSecret,
      AUTH_MODE: 'open',
      ...(urlTtlSeconds !== undefined ? { URL_TTL_SECONDS: String(urlTtlSeconds) } : {}),
      ...(allowedContentTypes ? { ALLOWED_CONTENT_TYPES: allowedContentTypes.join(',') } : {}),
    },
  });
  return { port: w.port, kill: () => w.close() };
}
