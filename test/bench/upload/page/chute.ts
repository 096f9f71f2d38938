// Chute's engine (@chute/uploader): worker-hashed, parallel parts, full-object CRC64NVME.
import { ChuteEngine, defaultPoolSize, MemoryRecordStore } from '@chute/uploader';
import { measure, theFile } from './common.js';

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  checksum: 'CRC64NVME' | 'NONE';
  concurrency?: number;
  /** Return every request's timing (Resource Timing, ms from the upload's start). */
  timeline?: boolean;
  /** Further engine options, for experiments (CHUTE_BENCH_ENGINE_JSON in the link bench). */
  engine?: Record<string, unknown>;
}

async function run(o: Opts) {
  return measure(async () => {
    const engine = new ChuteEngine({
      endpoint: o.signerUrl,
      getAuthToken: () => o.token,
      partSize: o.partSize,
      checksumAlgorithm: o.checksum,
      store: new MemoryRecordStore(),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      ...(o.engine ?? {}),
    });
    const t0 = performance.now();
    performance.clearResourceTimings();
    performance.setResourceTimingBufferSize(20_000);
    try {
      const result = await engine.upload(theFile());
      const timeline = o.timeline
        ? (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
            .filter((e) => e.startTime >= t0)
            .map((e) => {
              const u = new URL(e.name);
              const r = (x: number) => Math.round(x - t0);
              // [what, start, connect end, request sent, first answer byte, end]
              return [`${u.port} ${e.initiatorType} ${u.pathname.replace(/[^/]{24,}/g, '…')}${u.searchParams.get('partNumber') ? ` #${u.searchParams.get('partNumber')}` : ''}`, r(e.startTime), r(e.connectEnd), r(e.requestStart), r(e.responseStart), r(e.responseEnd)];
            })
        : undefined;
      return {
        key: result.key,
        detail: { verifiedBy: result.verifiedBy?.algorithm, peakInFlight: engine.inFlight.peak, sentParts: result.sentParts, poolSize: defaultPoolSize(), ...(timeline ? { timeline } : {}) },
      };
    } finally {
      engine.destroy();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run };
