// 1,000 files selected at once in the demo (the React widget as shipped): every one of them lands
// in the bucket with its size, and the main thread's long tasks while they are added, listed and
// started are measured (Long Tasks API) and printed. Issue 13's goal (no task over 100 ms) is not
// met yet — one ~1.1 s task remains in Uppy's addFiles — so it is reported, not asserted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium } from '../bench/lib/browser.js';
import { installLongTaskObserver, longTaskFigures, pageNow } from '../bench/lib/long-tasks.js';
import { buildDemo } from './lib/build.js';
import { tempFiles } from './lib/files.js';
import { type Stack, startStack } from './lib/stack.js';

const N = 1000;
let stack: Stack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let dist: string;
const files = tempFiles();

beforeAll(async () => {
  dist = await buildDemo();
  stack = await startStack({ staticDir: dist });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  files.cleanup();
});

async function listAll(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const res = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.set(o.Key as string, o.Size ?? 0);
    token = res.NextContinuationToken;
  } while (token);
  return out;
}

test('demo: 1,000 files at once — long tasks measured while they are listed and started; all stored with their sizes', async () => {
  const made: { path: string; size: number; name: string }[] = [];
  for (let i = 0; i < N; i++) {
    const name = `many-${String(i).padStart(4, '0')}.bin`;
    const size = 1024 + ((i * 7919) % (63 * 1024));
    made.push({ ...files.make(name, size), name });
  }
  const page: Page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await installLongTaskObserver(page);
  await page.setViewportSize({ width: 1000, height: 900 });
  await page.goto(`${stack.origin}/?goldenRetriever=off`);
  await page.locator('input.uppy-Dashboard-input[type=file]').first().waitFor({ state: 'attached' });
  await page.waitForTimeout(500);

  const t0 = await pageNow(page);
  await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles(made.map((f) => f.path));
  const upload = page.locator('.uppy-StatusBar-actionBtn--upload');
  await upload.waitFor({ timeout: 60_000 });
  await expect.poll(() => page.locator('.chute-uploader').getAttribute('data-file-count'), { timeout: 60_000 }).toBe(String(N));
  await upload.click();
  // Uploading has begun: some file is past "waiting".
  await page.locator('.chute-file[data-status="verified"], .chute-file[data-status="uploading"], .chute-file[data-status="hashing"]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);
  const t1 = await pageNow(page);
  const start = await longTaskFigures(page, t0, t1);
  console.log(`[many-files] selection and start: ${JSON.stringify(start)}`);

  await expect
    .poll(() => page.locator('.chute-uploader').getAttribute('data-verified-count'), { timeout: 300_000, interval: 500 })
    .toBe(String(N));
  const all = await longTaskFigures(page, t0);
  const report = { files: N, selectionAndStart: start, untilAllDone: all };
  console.log(`[many-files] long tasks: ${JSON.stringify(report)}`);
  if (process.env.CHUTE_LONG_TASKS_OUT) writeFileSync(path.resolve(process.env.CHUTE_LONG_TASKS_OUT), JSON.stringify(report, null, 2));

  const stored = await listAll();
  expect(stored.size).toBe(N);
  const bySuffix = new Map([...stored].map(([k, size]) => [k.slice(k.lastIndexOf('/') + 1), size]));
  for (const f of made) expect(bySuffix.get(f.name), f.name).toBe(f.size);
  await page.close();
}, 600_000);
