// 1,000 files selected at once in the demo (the React widget as shipped): every one of them lands
// in the bucket with its size, and the main thread's long tasks while they are added, listed and
// started are measured (Long Tasks API), printed and held to issue 13's goal: no task over 100 ms.
//
// One task is counted from the file input's `change` event on: the one that sets the input's
// files. Before that event Chromium creates the 1,000 File objects itself (one synchronous MIME
// look-up in the browser process per file: 270–600 ms on this 2-core machine, before any script
// of the page can run, and the same whatever the page does); the raw figure is printed too. What
// the page does with the selection (Uppy's addFiles, the Dashboard, the widget) is measured whole.
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
/**
 * Issue 13's goal is 100 ms; measured 64–90 ms over 3 runs on a shared 2-core machine (before the
 * sliced addFiles: 436–678 ms), so the assertion leaves room for noise. The real figure is printed.
 */
const LONGEST_MS = 150;
let stack: Stack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let dist: string;
const files = tempFiles();

beforeAll(async () => {
  // The demo as shipped: Vite takes NODE_ENV (vitest sets 'test') over the build mode, which
  // would bundle React's development runtime (several times slower to render).
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    dist = await buildDemo();
  } finally {
    process.env.NODE_ENV = env;
  }
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
  console.log(
    `[many-files] longest task while selecting and starting: ${start.fromFileInputChange.longestMs} ms of the page's work ` +
      `(${start.fromFileInputChange.over100} over 100 ms, TBT ${start.fromFileInputChange.totalBlockingMs} ms); raw longest ${start.longestMs} ms, ` +
      `of which Chromium's own File creation before the change event: ${start.fileInputTasks.map((t) => `${t.beforeChangeMs} ms`).join(', ') || 'none over 50 ms'}`,
  );

  await expect
    .poll(() => page.locator('.chute-uploader').getAttribute('data-verified-count'), { timeout: 300_000, interval: 500 })
    .toBe(String(N));
  const all = await longTaskFigures(page, t0);
  const report = { files: N, selectionAndStart: start, untilAllDone: all };
  console.log(`[many-files] long tasks: ${JSON.stringify(report)}`);
  if (process.env.CHUTE_LONG_TASKS_OUT) writeFileSync(path.resolve(process.env.CHUTE_LONG_TASKS_OUT), JSON.stringify(report, null, 2));

  // Issue 13: no long task over 100 ms while 1,000 files are selected and started (before the
  // sliced addFiles: one 436–678 ms task of the page's own, and up to one more over 100 ms).
  expect(start.fromFileInputChange.longestMs, JSON.stringify(start)).toBeLessThanOrEqual(LONGEST_MS);

  const stored = await listAll();
  expect(stored.size).toBe(N);
  const bySuffix = new Map([...stored].map(([k, size]) => [k.slice(k.lastIndexOf('/') + 1), size]));
  for (const f of made) expect(bySuffix.get(f.name), f.name).toBe(f.size);
  await page.close();
}, 600_000);
