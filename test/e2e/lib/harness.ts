// Shared set-up for the browser tests: one page build, one stack and one Chromium per test file.
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../bench/lib/browser.js';
import { buildHarnessPage } from './build.js';
import { type Stack, type StackOptions, startStack } from './stack.js';

export interface UploadOutcome {
  ok: boolean;
  result?: { key: string; keptParts: number; sentParts: number; verifiedBy: { algorithm: string; value: string } };
  error?: { code: string; message: string };
  peak?: number;
}

export interface HarnessLog {
  statuses: string[];
  hashed: Record<number, number>;
  uploaded: number[];
  kept: number[];
  retries: string[];
  longTasks: number[];
  longFrames: string[];
  corrupted: number;
}

export async function setupHarness(options: Omit<StackOptions, 'staticDir'> = {}) {
  const staticDir = await buildHarnessPage();
  const stack: Stack = await startStack({ ...options, staticDir });
  const browser = await launchChromium();
  return {
    stack,
    browser,
    /** A fresh page on the harness, with console errors collected. */
    async page(): Promise<Page> {
      const page = await browser.context.newPage();
      page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
      page.on('console', (msg) => {
        if (msg.text().startsWith('Failed to load resource')) return; // logged by the response handler
        if (msg.type() === 'error' || process.env.CHUTE_E2E_VERBOSE) console.error(`[page ${msg.type()}] ${msg.text()}`);
      });
      page.on('response', (res) => {
        if (res.status() >= 400 && !res.url().includes('favicon')) console.error(`[page http] ${res.status()} ${res.request().method()} ${res.url()}`);
      });
      await page.goto(`${stack.origin}/index.html`);
      await page.waitForFunction(() => 'harness' in globalThis, undefined, { timeout: 10_000 });
      return page;
    },
    async close() {
      await browser.close();
      await stack.close();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}

export const logOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { harness: { log: HarnessLog } }).harness.log);

export async function waitForLog(page: Page, predicate: string, timeout = 60_000) {
  await page.waitForFunction(`(() => { const log = window.harness.log; return ${predicate}; })()`, undefined, { timeout, polling: 20 });
}
