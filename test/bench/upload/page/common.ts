// Shared by the upload bench pages: long-task accounting and the selected file.
export const longTasks: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push(e.duration);
}).observe({ type: 'longtask', buffered: false });

export function theFile(): File {
  const f = (document.querySelector('#file') as HTMLInputElement).files?.[0];
  if (!f) throw new Error('no file selected');
  return f;
}

export interface PageResult {
  ms: number;
  bytes: number;
  key: string;
  longTaskCount: number;
  longTaskMs: number;
  maxLongTaskMs: number;
  heapPeak: number;
  detail?: Record<string, unknown>;
}

export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` from a timer (so its work counts as page tasks) and measures it. */
export async function measure(fn: () => Promise<{ key: string; detail?: Record<string, unknown> }>): Promise<PageResult> {
  await new Promise((r) => setTimeout(r, 50));
  longTasks.length = 0;
  const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  let heapPeak = mem?.usedJSHeapSize ?? 0;
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, mem?.usedJSHeapSize ?? 0);
  }, 100);
  const t0 = performance.now();
  try {
    const { key, detail } = await fn();
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
    return {
      ms,
      bytes: theFile().size,
      key,
      longTaskCount: longTasks.length,
      longTaskMs: longTasks.reduce((a, b) => a + b, 0),
      maxLongTaskMs: Math.max(0, ...longTasks),
      heapPeak,
      ...(detail ? { detail } : {}),
    };
  } finally {
    clearInterval(sampler);
  }
}

export async function api<T>(base: string, token: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(base + route, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}
