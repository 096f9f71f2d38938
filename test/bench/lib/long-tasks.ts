// Main-thread blocking in a Chromium page, measured with the Long Tasks API (and Long Animation
// Frames where available). Reusable by the e2e suite and the benches:
//   await installLongTaskObserver(page)      // before the page's scripts run (addInitScript)
//   ... act ...
//   const figures = await longTaskFigures(page, from)       // figures since a pageNow() reading
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
  /**
   * The same figures with each task that dispatched a file input's `change` event counted from
   * that event on: what the browser does before it (creating the File objects of the selection,
   * in Chromium one synchronous MIME-type look-up per file) runs before any script of the page
   * can and is no work of the page's.
   */
  fromFileInputChange: { over100: number; longestMs: number; totalBlockingMs: number; top: number[] };
  /** Tasks that dispatched a file input's `change`: their whole duration and the part before the event, ms. */
  fileInputTasks: { durationMs: number; beforeChangeMs: number }[];
}

type Recorded = { tasks: { start: number; duration: number }[]; loaf: { start: number; duration: number }[]; changes: number[] };

/** Starts recording long tasks from the first script of every document of `page`. */
export async function installLongTaskObserver(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as {
      __chuteLong: { tasks: { start: number; duration: number }[]; loaf: { start: number; duration: number }[]; changes: number[] };
      addEventListener: (type: string, fn: (e: { target: unknown }) => void, capture: boolean) => void;
    };
    g.__chuteLong = { tasks: [], loaf: [], changes: [] };
    // The first capture listener of the page: when a file input's selection reaches the page.
    g.addEventListener(
      'change',
      (e) => {
        const t = e.target as { tagName?: string; type?: string } | null;
        if (t?.tagName === 'INPUT' && t.type === 'file') g.__chuteLong.changes.push(performance.now());
      },
      true,
    );
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
  const recorded = await page.evaluate(
    ([a, b]) => {
      const g = globalThis as unknown as { __chuteLong: Recorded };
      const inside = (e: { start: number }) => e.start >= a && e.start < b;
      return { tasks: g.__chuteLong.tasks.filter(inside), loaf: g.__chuteLong.loaf.filter(inside), changes: g.__chuteLong.changes ?? [] };
    },
    [from, Number.isFinite(to) ? to : 1e15] as const,
  );
  const tasks = recorded.tasks.map((e) => e.duration);
  const loaf = recorded.loaf.map((e) => e.duration);
  const sorted = [...tasks].sort((x, y) => y - x);
  const fileInputTasks: LongTaskFigures['fileInputTasks'] = [];
  const trimmed = recorded.tasks
    .map((e) => {
      const change = recorded.changes.find((c) => c >= e.start && c < e.start + e.duration);
      if (change === undefined) return e.duration;
      fileInputTasks.push({ durationMs: Math.round(e.duration), beforeChangeMs: Math.round(change - e.start) });
      return e.start + e.duration - change;
    })
    .sort((x, y) => y - x);
  return {
    count: tasks.length,
    over50: tasks.filter((d) => d > 50).length,
    over100: tasks.filter((d) => d > 100).length,
    longestMs: Math.round(sorted[0] ?? 0),
    totalBlockingMs: Math.round(tasks.reduce((s, d) => s + Math.max(0, d - 50), 0)),
    loafCount: loaf.length,
    loafLongestMs: Math.round(Math.max(0, ...loaf)),
    top: sorted.slice(0, 20).map((d) => Math.round(d)),
    fromFileInputChange: {
      over100: trimmed.filter((d) => d > 100).length,
      longestMs: Math.round(trimmed[0] ?? 0),
      totalBlockingMs: Math.round(trimmed.reduce((s, d) => s + Math.max(0, d - 50), 0)),
      top: trimmed.slice(0, 10).map((d) => Math.round(d)),
    },
    fileInputTasks,
  };
}
