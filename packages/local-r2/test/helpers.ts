import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { DEFAULT_CREDENTIALS, type LocalR2, type LocalR2Options, startLocalR2 } from '../src/index.js';
import { sdk } from './sdk.js';

export interface Harness {
  r2: LocalR2;
  dir: string;
  /** Client with requestChecksumCalculation WHEN_REQUIRED (what Chute's signer uses). */
  s3: S3Client;
  /** Client with the SDK's defaults (CRC32 trailers on PutObject/UploadPart). */
  s3Default: S3Client;
  stop(): Promise<void>;
}

export function client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new sdk.S3Client({
    endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: DEFAULT_CREDENTIALS,
    maxAttempts: 1,
    ...extra,
  });
}

export async function harness(opts: Partial<LocalR2Options> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'local-r2-test-'));
  const r2 = await startLocalR2({ dataDir: dir, buckets: ['test'], sweepIntervalMs: 0, ...opts });
  const s3 = client(r2.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const s3Default = client(r2.endpoint);
  const self: Harness = {
    r2,
    dir,
    s3,
    s3Default,
    async stop() {
      s3.destroy();
      s3Default.destroy();
      await self.r2.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

export const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
export const b64 = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('base64');
export const random = (n: number) => randomBytes(n);
export const MiB = 1024 * 1024;

/** Error code of a rejected SDK call. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { name?: string; Code?: string }).Code ?? (err as Error).name;
  }
  throw new Error('expected the call to fail');
}

/** The XML error body's code and message from a raw fetch response. */
export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string; body: string }> {
  const body = await res.text();
  return {
    status: res.status,
    code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '',
    message: /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '',
    body,
  };
}

export interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  payloadHash?: string;
  /** Host header to sign (default: the endpoint's). */
  host?: string;
}

/** Sends a raw SigV4-signed request (signed with @smithy/signature-v4, as the SDK does). */
export async function signedFetch(endpoint: string, req: RawRequest): Promise<Response> {
  const { url, headers, body } = await signRaw(endpoint, req);
  return fetch(url, { method: req.method, headers, ...(body.length ? { body } : {}) });
}

/** Signs a raw request; returns the URL and headers to send (host excluded). */
export async function signRaw(endpoint: string, req: RawRequest) {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { createHash: ch, createHmac } = await import('node:crypto');
  class Sha256 {
    private h;
    constructor(secret?: unknown) {
      this.h = secret === undefined ? ch('sha256') : createHmac('sha256', Buffer.from(secret as Uint8Array));
    }
    update(d: Uint8Array) {
      this.h.update(d);
    }
    async digest() {
      return new Uint8Array(this.h.digest());
    }
    reset() {}
  }
  const url = new URL(endpoint);
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  const signer = new SignatureV4({ credentials: DEFAULT_CREDENTIALS, region: 'auto', service: 's3', sha256: Sha256, uriEscapePath: false });
  const headers: Record<string, string> = {
    host: req.host ?? url.host,
    'x-amz-content-sha256': req.payloadHash ?? ch('sha256').update(body).digest('hex'),
    ...req.headers,
  };
  if (body.length && req.headers?.['transfer-encoding'] === undefined) headers['content-length'] = String(body.length);
  const signed = await signer.sign({
    method: req.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: req.path,
    query: req.query ?? {},
    headers,
  });
  const qs = Object.entries(req.query ?? {})
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  const h2 = { ...signed.headers } as Record<string, string>;
  if (!req.host) delete h2.host;
  return { url: `${endpoint}${req.path}${qs ? `?${qs}` : ''}`, headers: h2, body };
}

/**
 * Environment for the real AWS clients (awscli, boto3) against this harness: a private HOME and
 * config file so nothing of the machine's own AWS setup is read; path-style, region auto.
 */
export async function privateAwsEnv(h: Harness): Promise<NodeJS.ProcessEnv> {
  await writeFile(join(h.dir, 'config'), '[default]\nregion = auto\ns3 =\n    addressing_style = path\n');
  return {
    PATH: '/usr/bin:/bin',
    HOME: h.dir,
    AWS_CONFIG_FILE: join(h.dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(h.dir, 'credentials'),
    AWS_ACCESS_KEY_ID: h.r2.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: h.r2.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'auto',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** The bytes of an SDK response body (GetObject's `Body`). */
export const bytesOf = async (b: unknown) =>
  Buffer.from(await (b as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
