// The demo app in Chromium against the signer running as a Cloudflare Worker under workerd
// (apps/worker via miniflare: the page from its ASSETS binding, the API from the Worker, the
// bytes straight to local-r2): a multipart and a single-PUT file end verified, are listed under
// "My uploads", and are the same bytes in the bucket.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium } from '../bench/lib/browser.js';
import { buildDemo } from './lib/build.js';
import { MiB, tempFiles } from './lib/files.js';
import { type Stack, startStack } from './lib/stack.js';

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let dist: string;
const files = tempFiles();

beforeAll(async () => {
  dist = await buildDemo();
  stack = await startStack({ staticDir: dist, signer: 'worker' });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dist) rmSync(dist, { recursive: true, force: true });
  files.cleanup();
});

test('demo on the Worker: multipart and single PUT verified, listed, same bytes', async () => {
  const big = files.make('edge-video.mp4', 21 * MiB);
  const small = files.make('edge-photo.jpg', 300 * 1024);
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400 && !res.url().includes('favicon')) console.error(`[page http] ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  try {
    await page.goto(`${stack.origin}/`);
    await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles([big.path, small.path]);
    await page.locator('.uppy-StatusBar-actionBtn--upload').click();
    const bigLine = page.locator('.chute-file[data-file-name="edge-video.mp4"]');
    const smallLine = page.locator('.chute-file[data-file-name="edge-photo.jpg"]');
    const settled = '[data-status="verified"], [data-status="failed"]';
    await bigLine.and(page.locator(settled)).waitFor({ timeout: 60_000 });
    await smallLine.and(page.locator(settled)).waitFor({ timeout: 30_000 });
    const why = `${await bigLine.textContent()} | ${await smallLine.textContent()}`;
    expect(await bigLine.getAttribute('data-status'), why).toBe('verified');
    expect(await smallLine.getAttribute('data-status'), why).toBe('verified');
    // local-r2 keeps CRC64NVME: the whole file's checksum, returned by the store through the Worker.
    expect(await bigLine.getAttribute('data-verification')).toBe('full-object-checksum');
    expect(await bigLine.locator('.chute-file__verified').textContent()).toContain('CRC64NVME');
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
