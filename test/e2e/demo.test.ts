// The real demo app (apps/demo, built with its own Vite config) in Chromium: drop a file into
// Uppy's Dashboard, upload, see it verified, find it in "My uploads" and download it back.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium } from '../bench/lib/browser.js';
import { buildDemo, E2E_DIR } from './lib/build.js';
import { MiB, tempFiles } from './lib/files.js';
import { type Stack, startStack } from './lib/stack.js';

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let dist: string;
const files = tempFiles();

beforeAll(async () => {
  dist = await buildDemo();
  // A policy with a type allow-list, so the refusal path shows up in the UI.
  stack = await startStack({
    staticDir: dist,
    proxy: true,
    limits: { allowedContentTypes: ['image/*', 'video/*', 'application/octet-stream'] },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  rmSync(dist, { recursive: true, force: true });
  files.cleanup();
});

test('demo: Dashboard upload → verified → listed in My uploads → downloads the same bytes', async () => {
  const file = files.make('holiday-video.mp4', 21 * MiB);
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.setViewportSize({ width: 1000, height: 900 });
  await page.goto(`${stack.origin}/`);
  await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(file.path);
  await page.locator('.uppy-StatusBar-actionBtn--upload').click();
  const line = page.locator('.chute-file[data-file-name="holiday-video.mp4"]');
  await line.and(page.locator('[data-status="verified"]')).waitFor({ timeout: 60_000 });
  expect(await line.locator('.chute-file__verified').textContent()).toContain('CRC64NVME');

  const row = page.locator('.my-uploads tr[data-key]').filter({ hasText: 'holiday-video.mp4' });
  await row.waitFor({ timeout: 10_000 });
  const key = (await row.getAttribute('data-key')) as string;
  expect(await stack.objectSha256(key)).toBe(file.sha256);

  if (process.env.CHUTE_SCREENSHOT) {
    await page.screenshot({ path: path.resolve(E2E_DIR, '../../apps/demo/screenshot.png'), fullPage: true });
  }

  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Download' }).click()]);
  const saved = await download.path();
  expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(file.sha256);
  await page.close();
});

/** Starts an upload through the throttled proxy and reloads once two parts are stored (first wave done). */
async function uploadThenReload(page: Page, url: string, file: { path: string }) {
  const name = path.basename(file.path);
  await page.goto(url);
  await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(file.path);
  await page.locator('.uppy-StatusBar-actionBtn--upload').click();
  try {
    await expect.poll(() => stack.uploadedParts(name), { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(2);
  } catch (err) {
    console.error(`[debug] no 2 parts: files: ${await page.locator('.chute-files').textContent().catch(() => '-')}; status bar: ${await page.locator('.uppy-StatusBar').textContent().catch(() => '-')}; open: ${JSON.stringify(await stack.openUploads())}`);
    await page.screenshot({ path: path.join(E2E_DIR, 'tmp', 'debug-no-parts.png') });
    throw err;
  }
  await page.reload();
  if (process.env.CHUTE_E2E_DEBUG) {
    const records = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const req = (globalThis as unknown as { indexedDB: { open(name: string): any } }).indexedDB.open('chute-uploads');
          req.onsuccess = () => {
            const all = req.result.transaction('uploads').objectStore('uploads').getAll();
            all.onsuccess = () => resolve(all.result.map((r: { name: string; uploadId: string; tokenExpiresAt: number }) => [r.name, r.uploadId, r.tokenExpiresAt]));
          };
          req.onerror = () => resolve(String(req.error));
        }),
    );
    console.error(`[debug] records after reload: ${JSON.stringify(records)}; open: ${JSON.stringify(await stack.openUploads())}`);
  }
}

async function expectVerifiedResume(page: Page, name: string, sha256: string) {
  const line = page.locator(`.chute-file[data-file-name="${name}"]`);
  await line.and(page.locator('[data-status="verified"]')).waitFor({ timeout: 60_000 });
  const text = (await line.textContent()) ?? '';
  const kept = Number(/(\d+) parts kept/.exec(text)?.[1] ?? 0);
  if (kept < 2) console.error(`[debug] line: ${text}; open uploads: ${JSON.stringify(await stack.openUploads())}`);
  expect(kept).toBeGreaterThanOrEqual(2);
  const row = page.locator('.my-uploads tr[data-key]').filter({ hasText: name });
  await row.waitFor({ timeout: 10_000 });
  expect(await stack.objectSha256((await row.getAttribute('data-key')) as string)).toBe(sha256);
  // The resumed multipart upload was completed: none is left open for this file.
  await expect.poll(async () => (await stack.openUploads()).filter((k) => k.includes(name)), { timeout: 5_000 }).toEqual([]);
}

test('demo: reload mid-upload → Golden Retriever ghost → re-select → resumes, keeping verified parts', async () => {
  const proxy = stack.proxy;
  if (!proxy) throw new Error('no proxy');
  const file = files.make('ghost-scan.tiff', 160 * MiB); // 10 parts of 16 MiB: two waves of 5 in flight
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  proxy.rate = 40 * MiB;
  try {
    await uploadThenReload(page, `${stack.origin}/`, file);
    // Too big for Golden Retriever's blob cache: the file comes back as a ghost to re-select.
    await page.locator('.uppy-Dashboard-Item.is-ghost').waitFor({ timeout: 10_000 });
    await page.locator('.uppy-DashboardContent-addMore').click();
    await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(file.path);
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    await expectVerifiedResume(page, 'ghost-scan.tiff', file.sha256);
  } finally {
    proxy.rate = 0;
  }
  await page.close();
});

test('demo without Golden Retriever: reload → Chute restore prompt → re-select → resumes', async () => {
  const proxy = stack.proxy;
  if (!proxy) throw new Error('no proxy');
  const file = files.make('prompt-scan.tiff', 160 * MiB);
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  proxy.rate = 40 * MiB;
  try {
    await uploadThenReload(page, `${stack.origin}/?goldenRetriever=off`, file);
    const prompt = page.locator('.chute-restore [data-restore-name="prompt-scan.tiff"]');
    await prompt.waitFor({ timeout: 10_000 });
    await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(file.path);
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    await expectVerifiedResume(page, 'prompt-scan.tiff', file.sha256);
    await expect.poll(() => prompt.count(), { timeout: 5_000 }).toBe(0);
  } finally {
    proxy.rate = 0;
  }
  await page.close();
});

test('demo: a file the signer refuses shows a clear error, and nothing is stored', async () => {
  const file = files.make('archive.zip', 1024);
  const page: Page = await browser.context.newPage();
  await page.goto(`${stack.origin}/`);
  await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(file.path);
  await page.locator('.uppy-StatusBar-actionBtn--upload').click();
  const line = page.locator('.chute-file[data-file-name="archive.zip"]');
  await line.and(page.locator('[data-status="failed"]')).waitFor({ timeout: 30_000 });
  const error = (await line.locator('.chute-file__error').textContent()) ?? '';
  expect(error).toContain('Files of type application/zip are not accepted here.');
  expect(error).toContain('content_type_not_allowed');
  expect(await stack.openUploads()).toEqual([]);
  await page.close();
});

test('demo on a store that echoes no checksums (like Ceph radosgw): multipart and single PUT end verified at the level the store allows, never "Failed"', async () => {
  const silent = await startStack({ staticDir: dist, ignoreChecksums: true });
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  try {
    const big = files.make('ceph-video.mp4', 21 * MiB);
    const small = files.make('ceph-photo.jpg', 300 * 1024);
    await page.goto(`${silent.origin}/`);
    await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles([big.path, small.path]);
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    const bigLine = page.locator('.chute-file[data-file-name="ceph-video.mp4"]');
    const smallLine = page.locator('.chute-file[data-file-name="ceph-photo.jpg"]');
    await bigLine.and(page.locator('[data-status="verified"]')).waitFor({ timeout: 60_000 });
    await smallLine.and(page.locator('[data-status="verified"]')).waitFor({ timeout: 30_000 });
    // Multipart: no CRC64NVME came back, so the part MD5s the store enforced + the multipart ETag + the size.
    expect(await bigLine.getAttribute('data-verification')).toBe('part-checksums-and-etag');
    expect(await bigLine.locator('.chute-file__status').textContent()).toBe('Verified (part MD5s + ETag + size)');
    expect(await bigLine.locator('.chute-file__verified').textContent()).toMatch(/bucket confirmed MD5 [0-9a-f]{32}-2/);
    // Single PUT: the ETag is the file's MD5 under an enforced Content-MD5.
    expect(await smallLine.getAttribute('data-verification')).toBe('full-object-checksum');
    expect(await smallLine.locator('.chute-file__status').textContent()).toBe('Verified (MD5 of the whole file)');
    expect(await page.locator('.chute-file[data-status="failed"]').count()).toBe(0);
    for (const f of [big, small]) {
      const row = page.locator('.my-uploads tr[data-key]').filter({ hasText: path.basename(f.path) });
      await row.waitFor({ timeout: 10_000 });
      expect(await silent.objectSha256((await row.getAttribute('data-key')) as string)).toBe(f.sha256);
    }
  } finally {
    await page.close();
    await silent.close();
  }
});
