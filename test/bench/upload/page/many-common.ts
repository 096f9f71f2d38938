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
  for (const e of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
    const p = `${new URL(e.name).port} ${e.nextHopProtocol || '?'}`;
    protocols[p] = (protocols[p] ?? 0) + 1;
  }
  return { ms, files: files.length, bytes: files.reduce((a, f) => a + f.size, 0), keys, protocols, ...(detail ? { detail } : {}) };
}
