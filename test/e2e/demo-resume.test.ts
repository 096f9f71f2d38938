// The demo's "Interrupted uploads" panel after a browser crash: a file chosen with the Dashboard's
// "browse" (Chute's picker; headless Chromium shows no dialog, so showOpenFilePicker is stubbed to
// return a handle from the origin-private file system) uploads with its handle kept; the browser
// is SIGKILLed mid-upload and started again on the same profile; the panel lists the upload
// (name, size, % done, age) and one click on Resume finishes it, keeping the stored parts.
// CHUTE_SCREENSHOT=1 saves the panel to apps/demo/restore-prompt.png.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildDemo, E2E_DIR } from './lib/build.js';
import { MiB } from './lib/files.js';
import { type KillableBrowser, launchKillable, settled, tempProfile } from './lib/killable-browser.js';
import { type Stack, startStack } from './lib/stack.js';

let stack: Stack;
let dist: string;
const profile = tempProfile();
const browsers: KillableBrowser[] = [];

beforeAll(async () => {
  dist = await buildDemo();
  stack = await startStack({ staticDir: dist, proxy: true });
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  await stack?.close();
  profile.remove();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

/** The picker dialog is the one thing a headless browser cannot show: answer it with an OPFS file's handle. */
const STUB_PICKER = `
  window.showOpenFilePicker = async () => {
    const root = await navigator.storage.getDirectory();
    return [await root.getFileHandle(localStorage.getItem('pick') || 'none')];
  };
`;

async function launch(): Promise<{ b: KillableBrowser; page: Page }> {
  const b = await launchKillable(profile.dir);
  browsers.push(b);
  await b.context.addInitScript(STUB_PICKER);
  const page = b.page;
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await page.setViewportSize({ width: 1000, height: 760 });
  return { b, page };
}

/** The few browser globals the evaluated functions use (this tsconfig has no DOM lib). */
type BrowserGlobals = {
  navigator: {
    storage: {
      getDirectory(): Promise<{
        getFileHandle(name: string, o?: { create?: boolean }): Promise<{
          getFile(): Promise<Blob>;
          createWritable(): Promise<{ write(data: Uint8Array): Promise<void>; close(): Promise<void> }>;
        }>;
      }>;
    };
  };
  localStorage: { setItem(k: string, v: string): void };
};

async function writeOpfs(page: Page, name: string, size: number) {
  await page.evaluate(
    async ([n, s]) => {
      const g = globalThis as unknown as BrowserGlobals;
      const root = await g.navigator.storage.getDirectory();
      const w = await (await root.getFileHandle(n as string, { create: true })).createWritable();
      const chunk = new Uint8Array(1024 * 1024);
      for (let done = 0; done < (s as number); done += chunk.length) {
        for (let i = 0; i < chunk.length; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
        await w.write(chunk.subarray(0, Math.min(chunk.length, (s as number) - done)));
      }
      await w.close();
      g.localStorage.setItem('pick', n as string);
    },
    [name, size] as const,
  );
}

/** SHA-256 of the OPFS file, computed in the page (the bytes only exist there). */
const opfsSha256 = (page: Page, name: string) =>
  page.evaluate(async (n) => {
    const g = globalThis as unknown as BrowserGlobals;
    const file = await (await (await g.navigator.storage.getDirectory()).getFileHandle(n)).getFile();
    const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, name);

test('demo: browser killed mid-upload, restarted → "Interrupted uploads" → Resume (one click) → verified, parts kept', async () => {
  const proxy = stack.proxy as NonNullable<Stack['proxy']>;
  const name = 'site-survey.tiff';
  let { b, page } = await launch();
  await page.goto(`${stack.origin}/`);
  await writeOpfs(page, name, 96 * MiB); // 6 parts of 16 MiB
  // Re-evaluate the page with the stub's file name in place.
  await page.reload();
  await page.locator('.uppy-Dashboard-browse').first().click();
  await page.locator('.uppy-Dashboard-Item').first().waitFor({ timeout: 10_000 });
  proxy.rate = 30 * MiB;
  await page.locator('.uppy-StatusBar-actionBtn--upload').click();
  await expect.poll(() => stack.uploadedParts(name), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(3);
  await b.kill();
  const stored = await settled(() => stack.uploadedParts(name));

  ({ b, page } = await launch());
  await page.goto(`${stack.origin}/`);
  const row = page.locator(`.chute-restore [data-restore-name="${name}"]`);
  await row.waitFor({ timeout: 10_000 });
  const meta = (await row.locator('.chute-restore__meta').textContent()) ?? '';
  expect(meta).toMatch(/^96\.0 MiB · \d+% done · (just now|\d+ min ago)$/);
  expect(Number(/(\d+)% done/.exec(meta)?.[1])).toBeGreaterThanOrEqual(16); // ≥ 1 of 6 parts saved (3+ were stored)
  if (process.env.CHUTE_SCREENSHOT) {
    await page.locator('.chute-restore').screenshot({ path: path.resolve(E2E_DIR, '../../apps/demo/restore-prompt.png') });
  }
  proxy.rate = 0;
  await row.getByRole('button', { name: 'Resume' }).click();
  const line = page.locator(`.chute-file[data-file-name="${name}"]`);
  await line.and(page.locator('[data-status="verified"]')).waitFor({ timeout: 60_000 });
  const kept = Number(/(\d+) parts kept/.exec((await line.textContent()) ?? '')?.[1] ?? 0);
  expect(kept).toBe(stored);
  await expect.poll(() => row.count(), { timeout: 5_000 }).toBe(0);
  const listed = page.locator('.my-uploads tr[data-key]').filter({ hasText: name });
  await listed.waitFor({ timeout: 10_000 });
  expect(await stack.objectSha256((await listed.getAttribute('data-key')) as string)).toBe(await opfsSha256(page, name));
  expect((await stack.openUploads()).filter((k) => k.includes(name))).toEqual([]);
  await b.close();
});
