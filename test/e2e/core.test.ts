// Core browser cases: sizes around the multipart boundary, parallel parts, pause/resume, cancel,
// corruption after hashing. Every case checks the stored object's bytes against the file.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MiB, tempFiles } from './lib/files.js';
import { type HarnessLog, logOf, setupHarness, type UploadOutcome, waitForLog } from './lib/harness.js';

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
