// Chute against an S3 implementation nobody here wrote: a throwaway Ceph radosgw (Debian's
// ceph-mon, ceph-osd, radosgw). The setup CLI, `doctor --json`, and a real chute-server doing a
// single PUT and a 3-part multipart upload with real PUTs to the presigned URLs.
import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startCli } from '../../apps/server/test/cli.js';
import { uploadThroughApi } from '../../apps/server/test/upload-flow.js';
import type { DoctorReport } from '../../apps/server/src/doctor/index.js';
import { type Radosgw, s3Client, startRadosgw } from './radosgw.js';

const ORIGIN = 'https://app.example';
const TOKEN = 'a-long-static-token-1';
const MiB = 1024 * 1024;
let gw: Radosgw | undefined;
let s3: S3Client;
let env: Record<string, string>;

beforeAll(async () => {
  // Missing Ceph binaries fail here with the apt-get line (.ci/run installs them): never a skip.
  gw = await startRadosgw();
  s3 = s3Client(gw);
  env = {
    S3_ENDPOINT: gw.endpoint,
    S3_REGION: gw.region,
    S3_BUCKET: gw.bucket,
    S3_ACCESS_KEY_ID: gw.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: gw.credentials.secretAccessKey,
    TOKEN_SECRETS: 'x'.repeat(32),
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: `${TOKEN}:alice`,
    PORT: '0',
  };
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await gw?.close();
});

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + 11) & 255);

describe.sequential('Ceph radosgw', () => {
  test('setup applies the CORS and abort-incomplete-uploads rules', async () => {
    const run = runCli(['setup', '--origin', ORIGIN, '--abort-after-days', '3'], env);
    expect(await run.exit, run.output()).toBe(0);
    const cors = (await s3.send(new GetBucketCorsCommand({ Bucket: env.S3_BUCKET }))).CORSRules ?? [];
    expect(cors.map((r) => r.ID)).toEqual(['chute-uploads']);
    expect(cors[0]?.ExposeHeaders).toContain('ETag');
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: env.S3_BUCKET }))).Rules ?? [];
    expect(rules.map((r) => [r.ID, r.AbortIncompleteMultipartUpload?.DaysAfterInitiation])).toEqual([['chute-abort-incomplete-uploads', 3]]);
  });

  test('doctor --json: usable with Content-MD5 only; every x-amz-checksum-* accepted and ignored', async () => {
    const run = runCli(['doctor', '--json', '--origin', ORIGIN], env);
    const code = await run.exit;
    const out = run.output();
    expect(code, out).toBe(0);
    const report = JSON.parse(out.slice(out.indexOf('{'))) as DoctorReport;
    const caps = report.capabilities;
    expect(report.usable).toBe(true);
    expect(report.recommended).toContainEqual(expect.objectContaining({ name: 'CHECKSUM_ALGORITHM', value: 'NONE' }));
    expect(caps.contentMd5Enforced).toBe(true);
    for (const alg of ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA256'] as const) {
      expect(caps.single[alg], alg).toEqual({ accepted: true, enforced: false, returned: false, head: false });
      expect(caps.multipart[alg], alg).toMatchObject({ accepted: true, listed: false, completeReturned: false, head: false });
    }
    expect(caps.multipart.CRC64NVME?.wrongRefused).toBe(false);
    expect(caps.multipart.CRC32C?.wrongPartRefused).toBe(false);
    // The multipart ETag is right on HeadObject; CompleteMultipartUpload answers an empty one.
    expect(caps.multipartEtag).toBe(true);
    expect(report.checks.find((c) => c.id === 'etag')?.detail).toContain('CompleteMultipartUpload answered an empty ETag');
    expect([caps.minPartSizeEnforced, caps.presignExpiryHonoured, caps.abortAfterDays]).toEqual([true, true, 3]);
    expect(caps.cors[ORIGIN]).toEqual({ preflight: true, etagExposed: true });
    const left = await s3.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: '.chute-doctor/' }));
    expect(left.KeyCount ?? 0).toBe(0);
  });

  test('chute-server with CHECKSUM_ALGORITHM=auto picks NONE + Content-MD5; single PUT and 3-part multipart', async () => {
    const cli = await startCli({ ...env, CHECKSUM_ALGORITHM: 'auto' });
    try {
      expect(cli.output()).toMatch(/CHECKSUM_ALGORITHM=auto picked NONE/);
      const single = await uploadThroughApi(cli.url, bytes(1000, 3), { token: TOKEN, multipart: false, checksumAlgorithm: 'CRC64NVME' });
      expect(single.puts[0]?.status).toBe(200);
      const file = bytes(11 * MiB, 7);
      const multi = await uploadThroughApi(cli.url, file, { token: TOKEN, multipart: true, partSize: 5 * MiB, checksumAlgorithm: 'CRC64NVME' });
      expect(multi.created).toMatchObject({ checksumAlgorithm: 'NONE', md5Required: true, partCount: 3 });
      expect(multi.done).toMatchObject({ key: multi.created.key, size: file.length });
      expect(multi.done.verification?.level).toBe('part-checksums-and-etag');
      // The bytes in the bucket are the file's.
      const got = await s3.send(new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: multi.done.key }));
      expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(file)).toBe(true);
    } finally {
      await cli.stop();
    }
  });

  test('chute-server with the default CRC64NVME: radosgw ignores it, uploads still complete and say what was verified', async () => {
    const cli = await startCli(env);
    try {
      const file = bytes(11 * MiB, 5);
      const multi = await uploadThroughApi(cli.url, file, { token: TOKEN, multipart: true, partSize: 5 * MiB });
      expect(multi.created.checksumAlgorithm).toBe('CRC64NVME');
      expect(multi.done.checksum).toBeUndefined();
      expect(multi.done.verification?.level).toBe('part-checksums-and-etag');
    } finally {
      await cli.stop();
    }
  });
});
