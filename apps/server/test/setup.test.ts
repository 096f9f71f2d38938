import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './cli.js';

let dir: string;
let r2: LocalR2;
let s3: S3Client;
let env: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-setup-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: ['assets'], sweepIntervalMs: 0 });
  s3 = new S3Client({ region: 'auto', endpoint: r2.endpoint, forcePathStyle: true, credentials: r2.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
  // Rules the bucket already has must survive setup.
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: 'assets',
      CORSConfiguration: { CORSRules: [{ ID: 'site-reads', AllowedOrigins: ['https://site.example'], AllowedMethods: ['GET'] }] },
    }),
  );
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: 'assets',
      LifecycleConfiguration: { Rules: [{ ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } }] },
    }),
  );
  env = {
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: 'assets',
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    TOKEN_SECRETS: 'x'.repeat(32),
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: 'a-long-static-token-1:alice',
  };
});
afterAll(async () => {
  s3.destroy();
  await r2.close();
  await rm(dir, { recursive: true, force: true });
});

const cors = async () => (await s3.send(new GetBucketCorsCommand({ Bucket: 'assets' }))).CORSRules ?? [];
const lifecycle = async () => (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'assets' }))).Rules ?? [];

test('--dry-run prints the plan and changes nothing', async () => {
  const run = runCli(['setup', '--origin', 'https://app.example', '--dry-run'], env);
  expect(await run.exit).toBe(0);
  expect(run.output()).toContain('"chute-uploads"');
  expect(run.output()).toContain('dry run: nothing changed');
  expect((await cors()).map((r) => r.ID)).toEqual(['site-reads']);
});

test('applies the CORS rule and the abort rule, keeps existing rules, and is idempotent', async () => {
  for (let i = 0; i < 2; i++) {
    const run = runCli(['setup', '--origin', 'https://app.example', '--origin', 'http://localhost:5173', '--abort-after-days', '3'], env);
    expect(await run.exit, run.output()).toBe(0);
  }
  const rules = await cors();
  expect(rules.map((r) => r.ID)).toEqual(['site-reads', 'chute-uploads']);
  const chute = rules[1];
  expect(chute?.AllowedOrigins).toEqual(['https://app.example', 'http://localhost:5173']);
  expect(chute?.AllowedMethods).toEqual(['PUT', 'GET', 'HEAD']);
  expect(chute?.AllowedHeaders).toEqual(expect.arrayContaining(['content-type', 'content-md5', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha256']));
  expect(chute?.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'x-amz-checksum-crc64nvme']));
  const lc = await lifecycle();
  expect(lc.map((r) => r.ID)).toEqual(['expire-tmp', 'chute-abort-incomplete-uploads']);
  expect(lc[1]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation).toBe(3);
  // The browser's preflight for a checksummed part PUT now passes.
  const pre = await fetch(`${r2.endpoint}/assets/uploads/alice/x`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-md5,x-amz-checksum-crc64nvme' },
  });
  expect(pre.status).toBe(200);
});

test('bad arguments: exit 2 with a clear message', async () => {
  for (const [args, message] of [
    [['setup'], 'at least one --origin'],
    [['setup', '--origin', 'https://app.example/path'], 'is not an origin'],
    [['setup', '--origin', 'https://app.example', '--abort-after-days', '0'], '--abort-after-days'],
    [['frobnicate'], 'unknown command'],
  ] as const) {
    const run = runCli([...args], env);
    expect(await run.exit).toBe(2);
    expect(run.output()).toContain(message);
  }
  const local = runCli(['setup', '--origin', 'https://app.example'], {});
  expect(await local.exit).toBe(2);
  expect(local.output()).toContain('needs a configured bucket');
});
