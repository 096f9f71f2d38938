// Shared by the many-files bench pages: the selected files and the timing of one batch.
export function theFiles(): File[] {
  const files = [...((document.querySelector('#files') as HTMLInputElement).files ?? [])];
  if (files.length === 0) throw new Error('no files selected');
  return files;
}

export interface ManyResult {
  ms: number;
  files: number;
  bytes: number;
  /** Object keys as the uploader reports them. */
  keys: string[];
  /** Store-connection protocol Chromium used (Resource Timing nextHopProtocol of the PUTs). */
  protocols: Record<string, number>;
  detail?: Record<string, unknown>;
  /** Per origin port (store, signer): request count, median duration, most at once, first start / last end (ms from t0). */
  requests?: RequestFigures[];
}

export interface RequestFigures {
  port: string;
  count: number;
  medianMs: number;
  maxAtOnce: number;
  firstStartMs: number;
  lastEndMs: number;
}

/** Resource Timing without Timing-Allow-Origin still gives each request's start and duration. */
function requestFigures(port: string, es: PerformanceResourceTiming[], t0: number): RequestFigures {
  const d = es.map((e) => e.duration).sort((a, b) => a - b);
  const edges = es.flatMap((e) => [
    [e.startTime, 1],
    [e.startTime + e.duration, -1],
  ]).sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let now = 0;
  let maxAtOnce = 0;
  for (const [, step] of edges) maxAtOnce = Math.max(maxAtOnce, (now += step as number));
  return {
    port,
    count: es.length,
    medianMs: Math.round(d[Math.floor(d.length / 2)] ?? 0),
    maxAtOnce,
    firstStartMs: Math.round(Math.min(...es.map((e) => e.startTime)) - t0),
    lastEndMs: Math.round(Math.max(...es.map((e) => e.startTime + e.duration)) - t0),
  };
}

/** Runs `fn` from a timer and measures it; every PUT's protocol is read from Resource Timing. */
export async function measureMany(fn: (files: File[]) => Promise<{ keys: string[]; detail?: Record<string, unknown> }>): Promise<ManyResult> {
  await new Promise((r) => setTimeout(r, 50));
  const files = theFiles();
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(100_000);
  const t0 = performance.now();
  const { keys, detail } = await fn(files);
  const ms = performance.now() - t0;
  const protocols: Record<string, number> = {};
  const byPort = new Map<string, PerformanceResourceTiming[]>();
  for (const e of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
    const port = new URL(e.name).port;
    const p = `${port} ${e.nextHopProtocol || '?'}`;
    protocols[p] = (protocols[p] ?? 0) + 1;
    byPort.set(port, [...(byPort.get(port) ?? []), e]);
  }
  return { ms, files: files.length, bytes: files.reduce((a, f) => a + f.size, 0), keys, protocols, requests: [...byPort].map(([port, es]) => requestFigures(port, es, t0)), ...(detail ? { detail } : {}) };
}
