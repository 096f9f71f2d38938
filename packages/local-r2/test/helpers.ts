import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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
  return {
    r2,
    dir,
    s3,
    s3Default,
    async stop() {
      s3.destroy();
      s3Default.destroy();
      await r2.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
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
