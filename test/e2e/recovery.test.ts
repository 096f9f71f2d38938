// Recovery in a real browser: reload + re-select (verified resume), URLs that expire mid-upload,
// the signer killed and restarted, the network dropped. The bucket sits behind a TCP proxy
// that caps the upload rate so each upload lasts long enough to be interrupted.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MiB, tempFiles } from './lib/files.js';
import { logOf, setupHarness, type UploadOutcome, waitForLog } from './lib/harness.js';

type H = Awaited<ReturnType<typeof setupHarness>>;
let h: H;
const files = tempFiles();

beforeAll(async () => {
  // Short URLs (2 s) so URLs really expire during an upload.
  h = await setupHarness({ proxy: true, limits: { urlTtlSeconds: 2 } });
});
afterAll(async () => {
  await h?.close();
  files.cleanup();
});

type W = { harness: { start(o: unknown): void; wait(): Promise<UploadOutcome>; upload(o: unknown): Promise<UploadOutcome> } };
const start = (page: Page, o: Record<string, unknown>) => page.evaluate((opts) => (globalThis as unknown as W).harness.start(opts), o);
const wait = (page: Page) => page.evaluate(() => (globalThis as unknown as W).harness.wait());

describe('recovery (Chromium → TCP proxy → local-r2)', () => {
  test('reload mid-upload, re-select the file: stored parts are verified and kept', async () => {
    const proxy = h.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 20 * MiB;
    const concurrency = 3;
    const file = files.make('reload.bin', 60 * MiB); // 12 parts of 5 MiB
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await start(page, { concurrency });
    await waitForLog(page, 'log.uploaded.length >= 4');
    const before = (await logOf(page)).uploaded.length;
    await page.reload();
    await page.waitForFunction(() => 'harness' in globalThis);
    await page.setInputFiles('#file', file.path);
    const out = await page.evaluate((o) => (globalThis as unknown as W).harness.upload(o), { concurrency });
    expect(out.error).toBeUndefined();
    const result = out.result as NonNullable<UploadOutcome['result']>;
    const log = await logOf(page);
    expect(result.keptParts).toBeGreaterThanOrEqual(before);
    expect(log.kept.length).toBe(result.keptParts); // each kept part matched its local MD5
    expect(result.keptParts + result.sentParts).toBe(12);
    // At most one part per parallel slot was lost to the reload and sent twice.
    expect(before + result.sentParts).toBeLessThanOrEqual(12 + concurrency);
    expect(await h.stack.objectSha256(result.key)).toBe(file.sha256);
    await page.close();
  });

  test('URLs that expire mid-upload are re-signed, even with the client clock 10 min ahead', async () => {
    const proxy = h.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 10 * MiB;
    const file = files.make('expire.bin', 30 * MiB);
    const page = await h.page();
    // Which part numbers each sign call asked for: a part asked for twice was re-signed.
    const signed: number[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && /\/api\/uploads\/[^/]+\/parts$/.test(new URL(req.url()).pathname)) {
        for (const p of (req.postDataJSON() as { parts: { partNumber: number }[] }).parts) signed.push(p.partNumber);
      }
    });
    await page.setInputFiles('#file', file.path);
    // 2 s URLs, a throttled link and a client clock 10 minutes ahead of the signer's: the URL
    // lifetime is taken from the URL itself, so URLs are used while valid and re-signed after.
    const out = await page.evaluate((o) => (globalThis as unknown as W).harness.upload(o), { concurrency: 2, clockSkewMs: -600_000 });
    expect(out.error).toBeUndefined();
    const resigned = signed.filter((n, i) => signed.indexOf(n) !== i);
    expect(resigned.length).toBeGreaterThan(0);
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('the signer killed and restarted mid-upload: the upload completes', async () => {
    const proxy = h.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 20 * MiB;
    const file = files.make('restart.bin', 40 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await start(page, { concurrency: 2, signBatchSize: 1 });
    await waitForLog(page, 'log.uploaded.length >= 1');
    await h.stack.restartSigner(1500);
    const out = await wait(page);
    expect(out.error).toBeUndefined();
    const log = await logOf(page);
    expect(log.retries.some((r) => r.includes('could not be reached'))).toBe(true);
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('the network dropped for a few seconds: the upload completes', async () => {
    const proxy = h.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 20 * MiB;
    const file = files.make('drop.bin', 40 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await start(page, { concurrency: 3 });
    await waitForLog(page, 'log.uploaded.length >= 1');
    proxy.drop(3000);
    const out = await wait(page);
    expect(out.error).toBeUndefined();
    const log = await logOf(page);
    expect(log.retries.some((r) => r.includes('network error'))).toBe(true);
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });

  test('offline for a while (navigator.onLine false): the upload waits, then completes', async () => {
    const proxy = h.stack.proxy;
    if (!proxy) throw new Error('no proxy');
    proxy.rate = 20 * MiB;
    const file = files.make('offline.bin', 80 * MiB);
    const page = await h.page();
    await page.setInputFiles('#file', file.path);
    await start(page, { concurrency: 3 });
    await waitForLog(page, 'log.uploaded.length >= 1');
    await page.context().setOffline(true);
    await waitForLog(page, "log.statuses.at(-1) === 'retrying'", 30_000);
    await page.waitForTimeout(1000); // requests already on the wire may still finish
    const during = (await logOf(page)).uploaded.length;
    await page.waitForTimeout(1500);
    expect((await logOf(page)).uploaded.length).toBe(during); // nothing new is sent while offline
    expect((await logOf(page)).statuses.at(-1)).toBe('retrying');
    await page.context().setOffline(false);
    const out = await wait(page);
    expect(out.error).toBeUndefined();
    expect(await h.stack.objectSha256(out.result?.key as string)).toBe(file.sha256);
    await page.close();
  });
});
