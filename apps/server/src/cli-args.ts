// What the CLI's subcommands share: usage errors (exit 2), origin checks, and the bucket's S3 client.
import { S3Client } from '@aws-sdk/client-s3';
import type { ServerConfig } from './config.js';

/** A wrong command line: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {}

/** Unknown or malformed options are usage errors (exit 2), not crashes. */
export function parseArgsSafely<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Each value must be a bare origin like https://app.example.com (no path, no trailing slash). */
export function checkOrigins(origins: readonly string[]): void {
  for (const o of origins) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.pathname === '/' && !u.search && o === u.origin;
    } catch {}
    if (!ok) throw new UsageError(`--origin ${o} is not an origin like https://app.example.com (no path, no trailing slash)`);
  }
}

type Bucket = NonNullable<ServerConfig['bucket']>;

/** An S3 client for the configured bucket, sending checksums only where S3 requires them. */
export function bucketClient(b: Pick<Bucket, 'endpoint' | 'region' | 'forcePathStyle' | 'accessKeyId' | 'secretAccessKey'>, maxAttempts?: number): S3Client {
  return new S3Client({
    region: b.region,
    endpoint: b.endpoint,
    forcePathStyle: b.forcePathStyle,
    credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(maxAttempts ? { maxAttempts } : {}),
  });
}
