// The demo built with React's development runtime, where StrictMode double-invokes state
// initialisers and mounts/unmounts/remounts effects: uploads must survive that unharmed.
import { rmSync } from 'node:fs';
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
  dist = await buildDemo('development');
  stack = await startStack({ staticDir: dist });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  rmSync(dist, { recursive: true, force: true });
  files.cleanup();
});

test('React dev runtime + StrictMode: two files upload once each, verified, nothing left open', async () => {
  const a = files.make('strict-a.bin', 40 * MiB);
  const b = files.make('strict-b.bin', 3 * MiB);
  const page: Page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${stack.origin}/`);
  expect(await page.locator('.uppy-Dashboard').count()).toBe(1); // one Dashboard despite double mounting
  await page.locator('input.uppy-Dashboard-input[type=file]').first().setInputFiles([a.path, b.path]);
  await page.locator('.uppy-StatusBar-actionBtn--upload').click();
  for (const name of ['strict-a.bin', 'strict-b.bin']) {
    await page.locator(`.chute-file[data-file-name="${name}"][data-status="verified"]`).waitFor({ timeout: 60_000 });
  }
  const rows = page.locator('.my-uploads tr[data-key]');
  await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
  for (const [name, sha] of [
    ['strict-a.bin', a.sha256],
    ['strict-b.bin', b.sha256],
  ] as const) {
    const key = (await rows.filter({ hasText: name }).getAttribute('data-key')) as string;
    expect(await stack.objectSha256(key)).toBe(sha);
  }
  expect(await stack.openUploads()).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});
