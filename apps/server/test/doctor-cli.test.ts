// `chute-server doctor` as a user runs it: the real CLI process against a real local-r2 on loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DoctorReport } from '../src/doctor/index.js';
import { applyBucket, planBucket, readBucket } from '../src/setup.js';
import { runCli } from './cli.js';

const ORIGIN = 'https://app.example';
let dir: string;
let r2: LocalR2;
let s3: S3Client;
let env: (bucket: string, more?: Record<string, string>) => Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-doctor-cli-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: ['ready', 'solo', 'bare'], sweepIntervalMs: 0 });
  s3 = new S3Client({ region: 'auto', endpoint: r2.endpoint, forcePathStyle: true, credentials: r2.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  // `solo` is probed by one test only, so what is left in it is that run's.
  for (const b of ['ready', 'solo']) await applyBucket(s3, b, planBucket(await readBucket(s3, b), [ORIGIN], 7));
  env = (bucket, more = {}) => ({
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    TOKEN_SECRETS: 'x'.repeat(32),
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: 'a-long-static-token-1:alice',
    ...more,
  });
});
afterAll(async () => {
  s3.destroy();
  await r2.close();
  await rm(dir, { recursive: true, force: true });
});

async function doctor(args: string[], e: Record<string, string>) {
  const run = runCli(['doctor', ...args], e);
  const code = await run.exit;
  return { code, out: run.output() };
}

test.concurrent('a set-up bucket: the table, the recommended settings, exit 0, nothing left behind', async () => {
  const { code, out } = await doctor(['--origin', ORIGIN], env('solo'));
  expect(code, out).toBe(0);
  expect(out).toContain(`chute-server doctor — ${r2.endpoint} bucket solo`);
  for (const line of ['✔ store reachable', '✔ credentials and bucket', '✔ Content-MD5 enforced', `✔ CORS for ${ORIGIN}`, '✔ abandoned uploads aborted']) {
    expect(out).toContain(line);
  }
  expect(out).toMatch(/✔ multipart CRC64NVME \(full object\) +complete returns the object checksum/);
  expect(out).toMatch(/Recommended settings:\n {2}CHECKSUM_ALGORITHM=CRC64NVME/);
  expect(out).toContain('Uploads can work with this bucket.');
  const left = await s3.send(new ListObjectsV2Command({ Bucket: 'solo', Prefix: '.chute-doctor/' }));
  expect(left.KeyCount).toBe(0);
});

test.concurrent('--json: the whole report; origins default to CORS_ORIGINS', async () => {
  const { code, out } = await doctor(['--json'], env('ready', { CORS_ORIGINS: ORIGIN }));
  expect(code, out).toBe(0);
  const report = JSON.parse(out) as DoctorReport;
  expect(report.usable).toBe(true);
  expect(report.capabilities.cors[ORIGIN]).toEqual({ preflight: true, etagExposed: true });
  expect(report.capabilities.multipart.CRC64NVME).toMatchObject({ completeReturned: true, head: true, wrongRefused: true });
  expect(report.recommended).toContainEqual(expect.objectContaining({ name: 'CHECKSUM_ALGORITHM', value: 'CRC64NVME' }));
});

test.concurrent('a bucket without the CORS rule: exit 1, and the table names the fix', async () => {
  const { code, out } = await doctor(['--origin', ORIGIN], env('bare'));
  expect(code, out).toBe(1);
  expect(out).toContain(`✘ CORS for ${ORIGIN}`);
  expect(out).toContain(`chute-server setup --origin ${ORIGIN}`);
  expect(out).toContain('Uploads CANNOT work with this bucket as configured');
});

test.concurrent('wrong keys: exit 1 at the credentials line; JSON says the same', async () => {
  const { code, out } = await doctor(['--json'], env('ready', { S3_SECRET_ACCESS_KEY: 'not-the-secret-at-all' }));
  expect(code, out).toBe(1);
  const report = JSON.parse(out) as DoctorReport;
  expect(report.checks.map((c) => [c.id, c.verdict])).toEqual([
    ['reachable', 'ok'],
    ['credentials', 'fail'],
  ]);
  expect(report.recommended).toEqual([]);
  expect(out).not.toContain('not-the-secret-at-all');
});

test.concurrent('an unreachable store: exit 1', async () => {
  const { code, out } = await doctor([], env('ready', { S3_ENDPOINT: 'http://127.0.0.1:9' }));
  expect(code, out).toBe(1);
  expect(out).toContain('✘ store reachable');
});

test.concurrent('local mode probes a throwaway local-r2 with the CORS the server would give it', async () => {
  const { code, out } = await doctor([], { PORT: '8799' });
  expect(code, out).toBe(0);
  expect(out).toContain('✔ CORS for http://localhost:8799');
  expect(out).toContain('CHECKSUM_ALGORITHM=CRC64NVME');
  // An origin the server would not allow fails, as it would in the browser.
  const other = await doctor(['--origin', ORIGIN], { PORT: '8799' });
  expect(other.code, other.out).toBe(1);
});

test.concurrent('usage errors: exit 2 with a clear message', async () => {
  for (const [args, e, message] of [
    [['--origin', 'https://app.example/path'], env('ready'), 'is not an origin'],
    [['--frobnicate'], env('ready'), "Unknown option '--frobnicate'"],
    [[], { S3_BUCKET: 'ready' }, 'also set S3_ACCESS_KEY_ID'],
  ] as const) {
    const { code, out } = await doctor([...args], e);
    expect(code, out).toBe(2);
    expect(out).toContain(message);
  }
});
