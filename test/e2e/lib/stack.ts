// The real stack on loopback, in the test process: @chute/local-r2 (the bucket), the signer's
// Express adapter serving the API and the built page on one origin, and optionally a TCP proxy
// between the browser/signer and the bucket so tests can cut the network.
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
}

export interface Stack {
  origin: string;
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
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chute-e2e-r2-'));
  const r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir, credentials: CREDS, buckets: [BUCKET], sweepIntervalMs: 0, ignoreChecksums: options.ignoreChecksums ?? false });
  const proxy = options.proxy ? await startTcpProxy({ host: '127.0.0.1', port: r2.port }) : undefined;
  const storeEndpoint = proxy ? proxy.url : r2.endpoint;
  const s3 = new S3Client({
    endpoint: r2.endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: CREDS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
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

  const serveConfig = {
    staticDir: options.staticDir,
    storeEndpoint,
    bucket: BUCKET,
    credentials: CREDS,
    tokenSecret: TOKEN_SECRET,
    ...(options.limits ? { limits: options.limits } : {}),
  };
  let server = await spawnServer({ ...serveConfig, port: 0 });
  const port = server.port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    s3,
    ...(proxy ? { proxy } : {}),
    async restartSigner(downMs) {
      await server.kill();
      await new Promise((r) => setTimeout(r, downMs));
      // The port was just freed; on a loaded machine the first bind can still fail: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          server = await spawnServer({ ...serveConfig, port });
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async objectSha256(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const hash = createHash('sha256');
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
      return hash.digest('hex');
    },
    async openUploads() {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
      return uploads.map((u) => u.Key as string);
    },
    async uploadedParts(keyPart) {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
      let n = 0;
      for (const u of uploads) {
        if (keyPart && !u.Key?.includes(keyPart)) continue;
        const res = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: u.Key as string, UploadId: u.UploadId as string }));
        n += res.Parts?.length ?? 0;
      }
      return n;
    },
    async multipartUploads() {
      const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      return res.Uploads?.length ?? 0;
    },
    async close() {
      await server.kill();
      await proxy?.close();
      s3.destroy();
      await r2.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts serve.ts under tsx (workspace packages from source); resolves once it listens. */
async function spawnServer(config: Record<string, unknown>): Promise<{ port: number; kill(): Promise<void> }> {
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
