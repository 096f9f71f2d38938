// A 256 MiB upload with a long-task observer on the main thread, and stock @uppy/aws-s3 6 with
// Chute's signRequest helper.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MiB, tempFiles } from './lib/files.js';
import { logOf, setupHarness, type UploadOutcome } from './lib/harness.js';

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

type W = {
  harness: {
    upload(o: unknown): Promise<UploadOutcome>;
    observeLongTasks(): void;
    stockUppy(partSize: number): Promise<{ ok: boolean; errors: string[]; key?: string }>;
  };
};

describe('large uploads', () => {
  // Long tasks are wall-clock: on a starved shared CI box (load > cores) the OS can stretch a
  // 5 ms task past 50 ms, so the measurement is retried; a real main-thread block fails every try.
  test('256 MiB: no main-thread long task (> 50 ms) while hashing and sending', { timeout: 180_000, retry: 2 }, async () => {
    const file = files.make('big.bin', 256 * MiB);
    const page: Page = await h.page();
    await page.setInputFiles('#file', file.path);
    await page.evaluate(() => (globalThis as unknown as W).harness.observeLongTasks());
    const started = Date.now();
    const out = await page.evaluate((o) => (globalThis as unknown as W).harness.upload(o), { partSize: 16 * MiB, concurrency: 4 });
    const seconds = (Date.now() - started) / 1000;
    expect(out.error).toBeUndefined();
    const log = await logOf(page);
    console.log(`256 MiB in ${seconds.toFixed(1)} s (${(256 / seconds).toFixed(0)} MiB/s), long tasks: [${log.longTasks.join(', ')}]`);
    if (log.longFrames.length) console.log(`long frames: ${log.longFrames.join(' | ')}`);
    expect(log.longTasks).toEqual([]);
    // Control: the observer does see a 120 ms busy loop, so the empty list above means something.
    await page.evaluate(() => {
      setTimeout(() => {
        const t = performance.now();
        while (performance.now() - t < 120) {}
      }, 0);
    });
    await page.waitForTimeout(500);
    expect((await logOf(page)).longTasks.length).toBeGreaterThanOrEqual(1);
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('stock @uppy/aws-s3 6 with chuteAwsS3Options uploads 30 MiB with Content-MD5 per part', async () => {
    const file = files.make('stock.bin', 30 * MiB);
    const page: Page = await h.page();
    const partPuts: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'PUT' && req.url().includes('partNumber=')) partPuts.push(req.headers()['content-md5'] ?? '');
    });
    await page.setInputFiles('#file', file.path);
    const out = await page.evaluate(() => (globalThis as unknown as W).harness.stockUppy(5 * 1024 * 1024));
    expect(out.errors).toEqual([]);
    expect(out.ok).toBe(true);
    expect(partPuts.length).toBe(6);
    expect(partPuts.every((md5) => /^[A-Za-z0-9+/]{22}==$/.test(md5))).toBe(true);
    expect(await h.stack.objectSha256(out.key as string)).toBe(file.sha256);
    await page.close();
  });
});
