// The browser e2e on a store nobody here wrote: a throwaway Ceph radosgw (test/stores/radosgw.ts)
// behind the real chute-server CLI (bucket mode, AUTH_MODE=open on loopback, STATIC_DIR), its CORS
// set by `chute-server setup`. radosgw accepts and ignores every x-amz-checksum-*, enforces
// Content-MD5 and answers CompleteMultipartUpload with an empty ETag, so what is verified is the
// part MD5s + the multipart ETag (from HeadObject) + the size, and a single PUT's MD5.
// The setup CLI and doctor on their own are in test/stores/radosgw.test.ts.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../apps/server/test/cli.js';
import { type Radosgw, startRadosgw } from '../stores/radosgw.js';
import { buildDemo } from './lib/build.js';
import { MiB, tempFiles } from './lib/files.js';
import { logOf, setupHarness, type UploadOutcome, waitForLog } from './lib/harness.js';
import { type ExternalStore, type Stack, startStack } from './lib/stack.js';

let gw: Radosgw | undefined;
let h: Awaited<ReturnType<typeof setupHarness>> | undefined;
let demo: Stack | undefined;
let demoDist: string | undefined;
const files = tempFiles();

beforeAll(async () => {
  // Missing Ceph binaries fail here with the apt-get line (.ci/run installs them): never a skip.
  gw = await startRadosgw({ bucket: 'chute-e2e' });
  const store: ExternalStore = { endpoint: gw.endpoint, region: gw.region, bucket: gw.bucket, credentials: gw.credentials };
  // The harness page (engine and stock Uppy) with the bucket behind a throttling proxy, and the demo.
  h = await setupHarness({ store, signer: 'chute-server', proxy: true });
  demoDist = await buildDemo();
  demo = await startStack({ staticDir: demoDist, store, signer: 'chute-server' });
  // The bucket's CORS rule for both pages' origins, as a deployment would set it.
  const setup = runCli(['setup', '--origin', demo.origin, '--origin', h.stack.origin], {
    S3_ENDPOINT: gw.endpoint,
    S3_REGION: gw.region,
    S3_BUCKET: gw.bucket,
    S3_ACCESS_KEY_ID: gw.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: gw.credentials.secretAccessKey,
    TOKEN_SECRETS: 'x'.repeat(32),
    AUTH_MODE: 'open',
  });
  expect(await setup.exit, setup.output()).toBe(0);
}, 240_000);

afterAll(async () => {
  await demo?.close().catch((err) => console.error(err));
  await h?.close().catch((err) => console.error(err));
  if (demoDist) rmSync(demoDist, { recursive: true, force: true });
  await gw?.close();
  files.cleanup();
}, 60_000);

type W = {
  harness: {
    start(o: unknown): void;
    upload(o: unknown): Promise<UploadOutcome>;
    stockUppy(partSize: number): Promise<{ ok: boolean; errors: string[]; key?: string }>;
  };
};
type Result = NonNullable<UploadOutcome['result']> & { verification: { level: string } };

describe.sequential('browser e2e on Ceph radosgw (Chromium → chute-server → radosgw)', () => {
  test('demo: a multipart and a single-PUT file end verified at the level radosgw allows, are listed, same bytes', async () => {
    const stack = demo as Stack;
    const page: Page = await (h as NonNullable<typeof h>).browser.context.newPage();
    page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
    try {
      const big = files.make('rgw-video.mp4', 21 * MiB);
      const small = files.make('rgw-photo.jpg', 300 * 1024);
      await page.goto(`${stack.origin}/`);
      await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles([big.path, small.path]);
      await page.locator('.uppy-StatusBar-actionBtn--upload').click();
      const bigLine = page.locator('.chute-file[data-file-name="rgw-video.mp4"]');
      const smallLine = page.locator('.chute-file[data-file-name="rgw-photo.jpg"]');
      const settled = '[data-status="verified"], [data-status="failed"]';
      await bigLine.and(page.locator(settled)).waitFor({ timeout: 60_000 });
      await smallLine.and(page.locator(settled)).waitFor({ timeout: 30_000 });
      const why = `${await bigLine.textContent()} | ${await smallLine.textContent()}`;
      expect(await bigLine.getAttribute('data-status'), why).toBe('verified');
      expect(await smallLine.getAttribute('data-status'), why).toBe('verified');
      // Multipart: radosgw returns no CRC64NVME, so the part MD5s it enforced + the ETag + the size.
      expect(await bigLine.getAttribute('data-verification')).toBe('part-checksums-and-etag');
      expect(await bigLine.locator('.chute-file__status').textContent()).toBe('Verified (part MD5s + ETag + size)');
      expect(await bigLine.locator('.chute-file__verified').textContent()).toMatch(/bucket confirmed MD5 [0-9a-f]{32}-\d+/);
      // Single PUT: the ETag is the file's MD5 under the Content-MD5 radosgw enforces.
      expect(await smallLine.getAttribute('data-verification')).toBe('full-object-checksum');
      expect(await smallLine.locator('.chute-file__status').textContent()).toBe('Verified (MD5 of the whole file)');
      for (const f of [big, small]) {
        const row = page.locator('.my-uploads tr[data-key]').filter({ hasText: path.basename(f.path) });
        await row.waitFor({ timeout: 10_000 });
        expect(await stack.objectSha256((await row.getAttribute('data-key')) as string)).toBe(f.sha256);
      }
      expect(await stack.openUploads()).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('reload mid-upload, re-select the file: the parts radosgw holds are verified and kept', async () => {
    const harness = h as NonNullable<typeof h>;
    const proxy = harness.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 20 * MiB;
    const concurrency = 3;
    const file = files.make('rgw-reload.bin', 60 * MiB); // 12 parts of 5 MiB
    const page = await harness.page();
    try {
      await page.setInputFiles('#file', file.path);
      await page.evaluate((o) => (globalThis as unknown as W).harness.start(o), { concurrency });
      await waitForLog(page, 'log.uploaded.length >= 4');
      const before = (await logOf(page)).uploaded.length;
      await page.reload();
      await page.waitForFunction(() => 'harness' in globalThis);
      await page.setInputFiles('#file', file.path);
      const out = await page.evaluate((o) => (globalThis as unknown as W).harness.upload(o), { concurrency });
      expect(out.error).toBeUndefined();
      const result = out.result as Result;
      const log = await logOf(page);
      console.log(`resume on radosgw: ${before} parts stored before the reload, ${result.keptParts} kept, ${result.sentParts} sent after it`);
      expect(result.keptParts).toBeGreaterThanOrEqual(before);
      expect(log.kept.length).toBe(result.keptParts); // each kept part matched its local MD5
      expect(result.keptParts + result.sentParts).toBe(12);
      expect(result.sentParts).toBeLessThan(12);
      // At most one part per parallel slot was lost to the reload and sent twice.
      expect(before + result.sentParts).toBeLessThanOrEqual(12 + concurrency);
      expect(result.verification.level).toBe('part-checksums-and-etag');
      expect(await harness.stack.objectSha256(result.key)).toBe(file.sha256);
      expect(await harness.stack.openUploads()).toEqual([]);
    } finally {
      proxy.rate = 0;
      await page.close();
    }
  });

  test('stock @uppy/aws-s3 6 with chuteAwsS3Options: 30 MiB multipart, Content-MD5 per part, same bytes', async () => {
    const harness = h as NonNullable<typeof h>;
    const file = files.make('rgw-stock.bin', 30 * MiB);
    const page = await harness.page();
    const partPuts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'PUT' && req.url().includes('partNumber=')) partPuts.push(req.headers()['content-md5'] ?? '');
    });
    try {
      await page.setInputFiles('#file', file.path);
      const out = await page.evaluate(() => (globalThis as unknown as W).harness.stockUppy(5 * 1024 * 1024));
      expect(out.errors).toEqual([]);
      expect(out.ok).toBe(true);
      expect(partPuts.length).toBe(6);
      expect(partPuts.every((md5) => /^[A-Za-z0-9+/]{22}==$/.test(md5))).toBe(true);
      expect(await harness.stack.objectSha256(out.key as string)).toBe(file.sha256);
      expect(await harness.stack.openUploads()).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
