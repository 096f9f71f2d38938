import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { applyBucket, planBucket, readBucket } from './setup.js';

export const LOCAL_BUCKET = 'chute';
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The embedded store of local mode: local-r2 with a `chute` bucket and CORS for the given origins.
 * `credentials` replace the published dev keys (required by config off loopback); `allowedHosts`
 * are Host names answered besides local-r2's loopback defaults.
 */
export async function startLocalStore(p: {
  host: string;
  port: number;
  dataDir: string;
  origins: string[];
  allowedHosts?: string[];
  credentials?: { accessKeyId: string; secretAccessKey: string };
  headersTimeoutMs?: number;
}) {
  const dataDir = resolve(p.dataDir, 'local-r2');
  const r2: LocalR2 = await startLocalR2({
    host: p.host,
    port: p.port,
    dataDir,
    buckets: [LOCAL_BUCKET],
    ...(p.allowedHosts ? { allowedHosts: p.allowedHosts } : {}),
    ...(p.credentials ? { credentials: p.credentials } : {}),
    ...(p.headersTimeoutMs !== undefined ? { headersTimeoutMs: p.headersTimeoutMs } : {}),
  });
  // A wildcard bind address is no name to send requests to (and local-r2 does not answer it as a Host).
  const endpoint = WILDCARD.has(p.host) ? `http://127.0.0.1:${r2.port}` : r2.endpoint;
  const client = new S3Client({
    region: 'auto',
    endpoint,
    forcePathStyle: true,
    credentials: r2.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await applyBucket(client, LOCAL_BUCKET, planBucket(await readBucket(client, LOCAL_BUCKET), p.origins, 7));
  } finally {
    client.destroy();
  }
  return { r2, dataDir, endpoint };
}

/**
 * Local mode's upload-token secret, kept in the data dir so a restart does not invalidate
 * uploads in flight. A real deployment sets TOKEN_SECRETS instead.
 */
export async function localTokenSecret(dataDir: string): Promise<string> {
  const file = join(resolve(dataDir), 'token-secret');
  try {
    const s = (await readFile(file, 'utf8')).trim();
    if (s.length >= 32) return s;
  } catch {
    // first start
  }
  await mkdir(resolve(dataDir), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
