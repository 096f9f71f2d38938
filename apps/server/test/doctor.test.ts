import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formatReport, runDoctor } from '../src/doctor/index.js';
import { applyBucket, planBucket, readBucket } from '../src/setup.js';

const ORIGIN = 'https://app.example';
let dir: string;
let r2: LocalR2;
let s3: S3Client;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-doctor-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: ['ready', 'bare'], sweepIntervalMs: 0 });
  s3 = new S3Client({ region: 'auto', endpoint: r2.endpoint, forcePathStyle: true, credentials: r2.credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await applyBucket(s3, 'ready', planBucket(await readBucket(s3, 'ready'), [ORIGIN], 7));
});
afterAll(async () => {
  s3.destroy();
  await r2.close();
  await rm(dir, { recursive: true, force: true });
});

async function leftovers(bucket: string) {
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '.chute-doctor/' }))).Contents ?? [];
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: '.chute-doctor/' }))).Uploads ?? [];
  return objects.length + uploads.length;
}

test('doctor on a set-up local-r2 bucket: every check passes, CRC64NVME recommended, nothing left behind', async () => {
  const report = await runDoctor({ client: s3, bucket: 'ready', endpoint: r2.endpoint, origins: [ORIGIN] });
  const text = formatReport(report);
  expect(report.checks.filter((c) => c.verdict !== 'ok'), text).toEqual([]);
  expect(report.usable).toBe(true);
  expect(report.recommended).toContainEqual(expect.objectContaining({ name: 'CHECKSUM_ALGORITHM', value: 'CRC64NVME' }));
  const caps = report.capabilities;
  expect(caps.contentMd5Enforced).toBe(true);
  expect(caps.multipart.CRC64NVME).toEqual({ accepted: true, listed: false, completeReturned: true, head: true, wrongRefused: true });
  expect(caps.single.SHA256).toEqual({ accepted: true, enforced: true, returned: true, head: true });
  expect(caps.multipart.CRC32C).toEqual({ accepted: true, listed: true, completeReturned: true, head: true, wrongPartRefused: true });
  expect([caps.multipartEtag, caps.minPartSizeEnforced, caps.presignExpiryHonoured, caps.abortAfterDays]).toEqual([true, true, true, 7]);
  expect(caps.cors[ORIGIN]).toEqual({ preflight: true, etagExposed: true });
  expect(text).toMatch(/Uploads can work with this bucket/);
  expect(await leftovers('ready')).toBe(0);
}, 60_000);

test('doctor on a bucket without a CORS rule: not usable from the browser, says which command fixes it', async () => {
  const report = await runDoctor({ client: s3, bucket: 'bare', endpoint: r2.endpoint, origins: [ORIGIN], sleep: async () => {} });
  expect(report.usable).toBe(false);
  const cors = report.checks.find((c) => c.id === `cors-${ORIGIN}`);
  expect(cors?.verdict).toBe('fail');
  expect(cors?.detail).toContain(`chute-server setup --origin ${ORIGIN}`);
  // Like R2, local-r2 aborts incomplete uploads after 7 days when a bucket has no rule of its own.
  expect(report.checks.find((c) => c.id === 'lifecycle')?.detail).toBe('after 7 day(s)');
  expect(formatReport(report)).toMatch(/Uploads CANNOT work/);
  expect(await leftovers('bare')).toBe(0);
}, 60_000);

test('doctor with wrong keys or an unreachable store stops at the first failing check', async () => {
  const wrong = new S3Client({ region: 'auto', endpoint: r2.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing-at-all' }, maxAttempts: 1 });
  const denied = await runDoctor({ client: wrong, bucket: 'ready', endpoint: r2.endpoint, origins: [] });
  expect(denied.checks.map((c) => [c.id, c.verdict])).toEqual([
    ['reachable', 'ok'],
    ['credentials', 'fail'],
  ]);
  const down = new S3Client({ region: 'auto', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: r2.credentials, maxAttempts: 1 });
  const unreachable = await runDoctor({ client: down, bucket: 'ready', endpoint: 'http://127.0.0.1:9', origins: [] });
  expect(unreachable.checks.map((c) => [c.id, c.verdict])).toEqual([['reachable', 'fail']]);
  expect(unreachable.usable).toBe(false);
  wrong.destroy();
  down.destroy();
});
