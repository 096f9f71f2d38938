// CHECKSUM_ALGORITHM=auto: real chute-server processes probe a real local-r2 at start, log their
// pick, and hand it to every upload — also to a widget that asks for a checksum the store ignores.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startCli } from './cli.js';
import { uploadThroughApi } from './upload-flow.js';

const TOKEN = 'a-long-static-token-1';
const MiB = 1024 * 1024;
const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 255);
let dir: string;
/** Like R2, and like Ceph radosgw (x-amz-checksum-* accepted and ignored, Content-MD5 enforced). */
let r2: LocalR2;
let rgwLike: LocalR2;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-auto-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'r2'), buckets: ['uploads'], sweepIntervalMs: 0 });
  rgwLike = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'rgw'), buckets: ['uploads'], sweepIntervalMs: 0, ignoreChecksums: true });
});
afterAll(async () => {
  await r2.close();
  await rgwLike.close();
  await rm(dir, { recursive: true, force: true });
});

const envFor = (store: LocalR2, more: Record<string, string> = {}) => ({
  S3_ENDPOINT: store.endpoint,
  S3_BUCKET: 'uploads',
  S3_ACCESS_KEY_ID: store.credentials.accessKeyId,
  S3_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
  TOKEN_SECRETS: 'x'.repeat(32),
  AUTH_MODE: 'tokens',
  AUTH_TOKENS: `${TOKEN}:alice`,
  PORT: '0',
  CHECKSUM_ALGORITHM: 'auto',
  ...more,
});

async function probeLeftovers(store: LocalR2): Promise<number> {
  const s3 = new S3Client({ region: 'auto', endpoint: store.endpoint, forcePathStyle: true, credentials: store.credentials });
  try {
    return (await s3.send(new ListObjectsV2Command({ Bucket: 'uploads', Prefix: '.chute-doctor/' }))).KeyCount ?? 0;
  } finally {
    s3.destroy();
  }
}

describe.concurrent('CHECKSUM_ALGORITHM=auto', () => {
  test('a store that verifies CRC64NVME: picked, logged, used, verified end to end', async () => {
    const cli = await startCli(envFor(r2));
    try {
      expect(cli.output()).toMatch(/CHECKSUM_ALGORITHM=auto picked CRC64NVME: the store verifies and returns a full-object CRC64NVME/);
      expect(cli.output()).toMatch(/"supported":\["CRC64NVME","CRC32","CRC32C","SHA256","NONE"\]/);
      const up = await uploadThroughApi(cli.url, bytes(6 * MiB), { token: TOKEN, multipart: true, partSize: 5 * MiB });
      expect(up.created.checksumAlgorithm).toBe('CRC64NVME');
      expect(up.done.verification?.level).toBe('full-object-checksum');
      // A client may still ask for less (or for another algorithm the store verifies).
      const none = await uploadThroughApi(cli.url, bytes(6 * MiB), { token: TOKEN, multipart: true, partSize: 5 * MiB, checksumAlgorithm: 'NONE' });
      expect(none.created.checksumAlgorithm).toBe('NONE');
    } finally {
      await cli.stop();
    }
    expect(await probeLeftovers(r2)).toBe(0);
  });

  test('a store that ignores x-amz-checksum-* (radosgw-like): NONE with Content-MD5, whatever the widget asks', async () => {
    const cli = await startCli(envFor(rgwLike));
    try {
      expect(cli.output()).toMatch(/CHECKSUM_ALGORITHM=auto picked NONE: the store verifies no x-amz-checksum-\* it is sent: Chute verifies by per-part Content-MD5/);
      expect(cli.output()).toMatch(/"supported":\["NONE"\]/);
      // The widget asks for CRC64NVME by default; the answer says NONE and keeps Content-MD5 required.
      const up = await uploadThroughApi(cli.url, bytes(11 * MiB), { token: TOKEN, multipart: true, partSize: 5 * MiB, checksumAlgorithm: 'CRC64NVME' });
      expect(up.created).toMatchObject({ checksumAlgorithm: 'NONE', md5Required: true, partCount: 3 });
      expect(up.done.checksum).toBeUndefined();
      expect(up.done.verification?.level).toBe('part-checksums-and-etag');
      const single = await uploadThroughApi(cli.url, bytes(1000), { token: TOKEN, multipart: false, checksumAlgorithm: 'CRC64NVME' });
      expect(single.puts[0]?.status).toBe(200);
    } finally {
      await cli.stop();
    }
    expect(await probeLeftovers(rgwLike)).toBe(0);
  });

  test('local mode probes the embedded local-r2', async () => {
    const cli = await startCli({ PORT: '0', DATA_DIR: join(dir, 'local'), CHECKSUM_ALGORITHM: 'auto' });
    try {
      expect(cli.output()).toContain('CHECKSUM_ALGORITHM=auto picked CRC64NVME');
    } finally {
      await cli.stop();
    }
  });

  test('an unreachable store: the server does not start, and says how to start without the probe', async () => {
    const run = runCli([], envFor(r2, { S3_ENDPOINT: 'http://127.0.0.1:9' }));
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/CHECKSUM_ALGORITHM=auto could not probe bucket "uploads" at http:\/\/127\.0\.0\.1:9 .*set CHECKSUM_ALGORITHM explicitly/);
  });
});
