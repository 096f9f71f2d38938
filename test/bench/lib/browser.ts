// Debian's Chromium driven by playwright-core, with a fresh profile per launch (bench, e2e and
// reliability suites all launch it here).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHUTE_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  version: string;
  close(): Promise<void>;
}

/** `extraArgs`: more Chromium flags (e.g. the link bench's certificate pin). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'chute-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      // Precise performance.memory figures instead of bucketed ones.
      '--enable-precise-memory-info',
      ...extraArgs,
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const version = context.browser()?.version() ?? (await page.evaluate(() => (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent));
  return {
    context,
    page,
    version,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Samples the page's JS heap through CDP every `everyMs`; returns a stop() giving the peak in bytes. */
export async function sampleHeap(page: Page, everyMs = 200): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let peak = 0;
  let stopped = false;
  const tick = async () => {
    while (!stopped) {
      try {
        const { metrics } = await cdp.send('Performance.getMetrics');
        const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
        if (used > peak) peak = used;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  const loop = tick();
  return async () => {
    stopped = true;
    await loop;
    await cdp.detach().catch(() => {});
    return peak;
  };
}
