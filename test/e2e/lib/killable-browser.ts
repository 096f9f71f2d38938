// A Chromium whose whole process group the test can SIGKILL, then start again on the same profile
// (a crash or a closed browser, as the user sees it). Launched as its own process group with
// --remote-debugging-port and driven over CDP by playwright-core.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../../bench/lib/browser.js';

export interface KillableBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  pid: number;
  /** SIGKILL to every process of this Chromium (browser, renderers, GPU, network service). */
  kill(): Promise<void>;
  /** A normal close. */
  close(): Promise<void>;
}

export function tempProfile(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chute-e2e-profile-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function launchKillable(profileDir: string): Promise<KillableBrowser> {
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--remote-debugging-port=0',
      `--user-data-dir=${profileDir}`,
      'about:blank',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ws = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s: ${err.slice(-2000)}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`Chromium exited with ${code}: ${err.slice(-2000)}`)));
  });
  child.stderr?.resume();
  const browser = await chromium.connectOverCDP(ws);
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const page = context.pages()[0] ?? (await context.newPage());
  const pid = child.pid as number;
  return {
    browser,
    context,
    page,
    pid,
    async kill() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
      await browser.close().catch(() => undefined);
    },
    async close() {
      await browser.close().catch(() => undefined);
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}

/**
 * After a kill, bytes the browser had already handed to the kernel still reach the bucket (through
 * the throttling proxy, like a network buffer): read `count` until it stays the same for `quietMs`.
 */
export async function settled(count: () => Promise<number>, quietMs = 1000, maxMs = 10_000): Promise<number> {
  const until = Date.now() + maxMs;
  let last = await count();
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}
