// Core browser cases: sizes around the multipart boundary, parallel parts, pause/resume, cancel,
// corruption after hashing. Every case checks the stored object's bytes against the file.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MiB, tempFiles } from './lib/files.js';
import { type HarnessLog, logOf, setupHarness, type UploadOutcome, waitForLog } from './lib/harness.js';
import { type SignerProxy, startSignerProxy } from './lib/signer-proxy.js';

type H = Awaited<ReturnType<typeof setupHarness>>;
let h: H;
const files = tempFiles();

beforeAll(async () => {
  h = await setupHarness();
});
afterAll(async () => {
  await h?.close();
  files.cleanup();
});

const upload = (page: import('playwright-core').Page, opts: Record<string, unknown> = {}) =>
  page.evaluate((o) => (globalThis as unknown as { harness: { upload(o: unknown): Promise<UploadOutcome> } }).harness.upload(o), opts);

describe('uploads in Chromium → signer → local-r2', () => {
  test.each([
    ['0 B', 0],
    ['1 B', 1],
    ['5 MiB − 1', 5 * MiB - 1],
    ['5 MiB + 1', 5 * MiB + 1],
  ])('%s lands intact and verified', async (_label, size) => {
    const file = files.make(`size-${size}.bin`, size);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    const out = await upload(page);
    expect(out.error).toBeUndefined();
    expect(out.ok).toBe(true);
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    const log = await logOf(page);
    expect(log.statuses.at(-1)).toBe('verified');
    expect(out.result?.verifiedBy.algorithm).toBe(size > 5 * MiB ? 'CRC64NVME' : 'MD5');
    await page.close();
  });

  test('64 MiB: parts in parallel, full-object CRC64NVME confirmed by the bucket', async () => {
    const file = files.make('64m.bin', 64 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    const out = await upload(page, { concurrency: 4 });
    expect(out.error).toBeUndefined();
    expect(out.peak).toBeGreaterThan(1);
    expect(out.result?.sentParts).toBe(13);
    expect(out.result?.verifiedBy.algorithm).toBe('CRC64NVME');
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    // The store's connection was opened while the first parts were signed, in the anonymous pool the PUTs use.
    const hints = await page.evaluate("[...document.querySelectorAll('link[rel=preconnect]')].map((l) => [l.getAttribute('href'), l.getAttribute('crossorigin')])");
    expect(hints).toEqual([[new URL(h.stack.storeEndpoint).origin, 'anonymous']]);
    await page.close();
  });

  test.each([
    ['SHA256', 'SHA256'],
    ['NONE', 'MD5'],
  ])('checksum %s: parts checked by the bucket, object verified by %s', async (checksumAlgorithm, verifiedBy) => {
    const file = files.make(`algo-${checksumAlgorithm}.bin`, 12 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    const out = await upload(page, { checksumAlgorithm });
    expect(out.error).toBeUndefined();
    expect(out.result?.verifiedBy.algorithm).toBe(verifiedBy);
    expect(out.result?.verifiedBy.value).toMatch(/-3$/); // composite / multipart ETag over 3 parts
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('pause stops sending; resume completes', async () => {
    const file = files.make('pause.bin', 30 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await page.evaluate(() => (globalThis as unknown as { harness: { start(o: unknown): void } }).harness.start({ concurrency: 2 }));
    await waitForLog(page, 'log.uploaded.length >= 1');
    await page.evaluate(() => (globalThis as unknown as { harness: { pause(): void } }).harness.pause());
    const atPause = (await logOf(page)).uploaded.length;
    await page.waitForTimeout(1000);
    const during = await logOf(page);
    // In-flight parts were aborted: nothing completes while paused (one may have been finishing).
    expect(during.uploaded.length).toBeLessThanOrEqual(atPause + 1);
    // On a failure, say why: the upload's own error is the useful part of the message.
    const why =
      during.statuses.at(-1) === 'failed'
        ? JSON.stringify(await page.evaluate(() => (globalThis as unknown as { harness: { wait(): Promise<unknown> } }).harness.wait()))
        : '';
    expect(during.statuses.at(-1), `${JSON.stringify(during.statuses)} ${why}`).toBe('paused');
    await page.evaluate(() => (globalThis as unknown as { harness: { resume(): void } }).harness.resume());
    const out = (await page.evaluate(() => (globalThis as unknown as { harness: { wait(): Promise<unknown> } }).harness.wait())) as UploadOutcome;
    expect(out.error).toBeUndefined();
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('cancel aborts the multipart upload in the bucket', async () => {
    const file = files.make('cancel.bin', 30 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await page.evaluate(() => (globalThis as unknown as { harness: { start(o: unknown): void } }).harness.start({ concurrency: 1 }));
    await waitForLog(page, 'log.uploaded.length >= 1');
    expect(await h.stack.multipartUploads()).toBe(1);
    await page.evaluate(() => (globalThis as unknown as { harness: { cancel(): Promise<void> } }).harness.cancel());
    const out = (await page.evaluate(() => (globalThis as unknown as { harness: { wait(): Promise<unknown> } }).harness.wait())) as UploadOutcome;
    expect(out.error?.code).toBe('canceled');
    expect(await h.stack.multipartUploads()).toBe(0);
    await page.close();
  });

  test('a part corrupted after hashing is rejected by the bucket, re-read, re-sent', async () => {
    const file = files.make('corrupt.bin', 12 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    const out = await upload(page, { corrupt: { partNumber: 2, attempt: 1 } });
    expect(out.error).toBeUndefined();
    const log: HarnessLog = await logOf(page);
    expect(log.corrupted).toBe(1);
    expect(log.retries.some((r) => r.startsWith('2: rehash') && r.includes('BadDigest'))).toBe(true);
    expect(log.hashed[2]).toBe(2); // read and hashed again from the file
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });
});

describe('many small files at once: their creates share signer calls', () => {
  type Outcome = { ok: boolean; key?: string; size?: number; etag?: string; level?: string; code?: string };
  let proxy: SignerProxy;
  beforeAll(async () => {
    proxy = await startSignerProxy(h.stack.origin);
  });
  afterAll(() => proxy?.close());
  // Through the proxy: the signer is then another origin, as usual in production.
  const manySmall = (page: import('playwright-core').Page, count: number, size: number) =>
    page.evaluate(
      ([n, s, endpoint]) =>
        (globalThis as unknown as { harness: { manySmall(n: number, s: number, o: unknown): Promise<{ outcomes: Outcome[] }> } }).harness.manySmall(n, s, { endpoint }),
      [count, size, proxy.url] as const,
    );
  /** POSTs to the create routes, as Chromium sent them. */
  const countCreates = (page: import('playwright-core').Page) => {
    const seen = { single: 0, batch: 0, batchFiles: 0 };
    page.on('request', (r) => {
      if (r.method() !== 'POST') return;
      const p = new URL(r.url()).pathname;
      if (p === '/api/uploads') seen.single++;
      if (p === '/api/uploads/batch') {
        seen.batch++;
        seen.batchFiles += (JSON.parse(r.postData() ?? '{}') as { files?: unknown[] }).files?.length ?? 0;
      }
    });
    return seen;
  };
  const expectStored = async (outcomes: Outcome[], size: number) => {
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    for (const [i, o] of outcomes.entries()) {
      expect(o).toMatchObject({ size: size + i, level: 'full-object-checksum' });
      const head = await h.stack.s3.send(new HeadObjectCommand({ Bucket: h.stack.bucket, Key: o.key }));
      expect([head.ContentLength, head.ETag]).toEqual([size + i, `"${o.etag}"`]);
    }
  };

  test('60 files, the signer 100 ms away: every one stored and checked, in far fewer create calls than files', async () => {
    const page = await h.page();
    const seen = countCreates(page);
    proxy.delayMs = 100;
    try {
      const { outcomes } = await manySmall(page, 60, 10_000);
      await expectStored(outcomes, 10_000);
    } finally {
      proxy.delayMs = 0;
    }
    expect(seen.batch).toBeGreaterThan(0);
    expect(seen.single + seen.batchFiles).toBe(60); // each file created exactly once
    // The first goes alone (nothing to wait for); the others leave together while a call is out,
    // as many as the engine prepares ahead (2 × its 4 slots here): measured 16 calls.
    expect(seen.single + seen.batch).toBeLessThanOrEqual(20);
    console.log(`60 files: ${seen.single} single creates + ${seen.batch} batches (${seen.batchFiles} files)`);
    // The signer is another origin here: the engine opened its connection when it was made.
    const hints = await page.evaluate("[...document.querySelectorAll('link[rel=preconnect]')].map((l) => [l.getAttribute('href'), l.getAttribute('crossorigin')])");
    expect(hints).toEqual([[proxy.url, 'anonymous']]);
    await page.close();
  });

  test('a signer without the batch route (404): the engine creates one at a time, nothing lost', async () => {
    const page = await h.page();
    const seen = countCreates(page);
    proxy.missing.add('/api/uploads/batch');
    proxy.delayMs = 50;
    try {
      const { outcomes } = await manySmall(page, 30, 5_000);
      await expectStored(outcomes, 5_000);
    } finally {
      proxy.missing.clear();
      proxy.delayMs = 0;
    }
    expect(seen.batch).toBe(1); // asked once, then never again
    expect(seen.single).toBe(30); // the refused batch's files went alone
    await page.close();
  });
});
