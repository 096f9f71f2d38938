// Main-thread blocking in a Chromium page, measured with the Long Tasks API (and Long Animation
// Frames where available). Reusable by the e2e suite and the benches:
//   await installLongTaskObserver(page)      // before the page's scripts run (addInitScript)
//   ... act ...
//   const figures = await longTaskFigures(page, 'start')   // marks: figures since a named point
import type { Page } from 'playwright-core';

export interface LongTaskFigures {
  /** Long tasks (> 50 ms, per the API) since the mark. */
  count: number;
  over50: number;
  over100: number;
  longestMs: number;
  /** Sum over tasks of (duration − 50 ms), the Lighthouse "total blocking time". */
  totalBlockingMs: number;
  /** Long animation frames (> 50 ms), if the browser reports them. */
  loafCount: number;
  loafLongestMs: number;
  /** The durations, ms, rounded (longest first, at most 20). */
  top: number[];
}

/** Starts recording long tasks from the first script of every document of `page`. */
export async function installLongTaskObserver(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as { __chuteLong: { tasks: { start: number; duration: number }[]; loaf: { start: number; duration: number }[] } };
    g.__chuteLong = { tasks: [], loaf: [] };
    const observe = (type: string, into: { start: number; duration: number }[]) => {
      try {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) into.push({ start: e.startTime, duration: e.duration });
        }).observe({ type, buffered: true } as unknown as Parameters<InstanceType<typeof PerformanceObserver>['observe']>[0]);
      } catch {
        // type not supported
      }
    };
    observe('longtask', g.__chuteLong.tasks);
    observe('long-animation-frame', g.__chuteLong.loaf);
  });
}

/** The page's clock now (ms), to pass to `longTaskFigures` as the start of a window. */
export function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** Long-task figures in the window [from, to) of the page's clock (to: now). */
export async function longTaskFigures(page: Page, from = 0, to = Number.POSITIVE_INFINITY): Promise<LongTaskFigures> {
  // Let the observers deliver what is queued.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  const { tasks, loaf } = await page.evaluate(
    ([a, b]) => {
      const g = globalThis as unknown as { __chuteLong: { tasks: { start: number; duration: number }[]; loaf: { start: number; duration: number }[] } };
      const inside = (e: { start: number }) => e.start >= a && e.start < b;
      return { tasks: g.__chuteLong.tasks.filter(inside).map((e) => e.duration), loaf: g.__chuteLong.loaf.filter(inside).map((e) => e.duration) };
    },
    [from, Number.isFinite(to) ? to : 1e15] as const,
  );
  const sorted = [...tasks].sort((x, y) => y - x);
  return {
    count: tasks.length,
    over50: tasks.filter((d) => d > 50).length,
    over100: tasks.filter((d) => d > 100).length,
    longestMs: Math.round(sorted[0] ?? 0),
    totalBlockingMs: Math.round(tasks.reduce((s, d) => s + Math.max(0, d - 50), 0)),
    loafCount: loaf.length,
    loafLongestMs: Math.round(Math.max(0, ...loaf)),
    top: sorted.slice(0, 20).map((d) => Math.round(d)),
  };
}
