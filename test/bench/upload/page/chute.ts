// Chute's engine (@chute/uploader): worker-hashed, parallel parts, full-object CRC64NVME.
import { choosePartSize, DEFAULT_PART_SIZE, partCount, partRange } from '@chute/protocol';
import {
  ChuteEngine,
  defaultPoolSize,
  IndexedDbRecordStore,
  MemoryLocks,
  MemoryRecordStore,
  type PartDigest,
  type PartHasher,
  type PartTransport,
  type PutRequest,
  silentChannel,
  WorkerHashPool,
  XhrTransport,
} from '@chute/uploader';
import { measure, pause, theFile } from './common.js';

/** Experiments only (A/B of where Chute's CPU goes; the link bench's CHUTE_BENCH_PAGE_VARIANTS). */
interface PageKnobs {
  /** Resume records in IndexedDB (the product's default store) instead of memory. */
  store?: 'idb' | 'memory';
  /** No BroadcastChannel and no Web Locks (in-page locks, a silent channel). */
  noTabs?: boolean;
  /** Parts hashed by `prepare()` beforehand (not measured): the upload reads each part once, for the PUT. */
  precomputed?: boolean;
  /** Upload progress dropped (the transport still gets XHR progress events, the engine does not). */
  noProgress?: boolean;
  /** No BroadcastChannel only (a silent channel). */
  noChannel?: boolean;
  /** No Web Locks only (in-page locks). */
  noLocks?: boolean;
  /** Each part read into memory and sent as a memory-backed Blob (`new Blob([bytes])`) instead of the file's slice. */
  memoryBlob?: boolean;
  /** Each part sent as its bytes (an ArrayBuffer body). Measured: ~300 ms/MB browser-side (vs ~25 for the slice). */
  arrayBufferBody?: boolean;
}

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  checksum: 'CRC64NVME' | 'NONE';
  concurrency?: number;
  /** Return every request's timing (Resource Timing, ms from the upload's start). */
  timeline?: boolean;
  /** Time between making the engine (page open) and the upload (the user picking a file). */
  pickMs?: number;
  /** Further engine options, for experiments (CHUTE_BENCH_ENGINE_JSON in the link bench). */
  engine?: Record<string, unknown>;
  knobs?: PageKnobs;
}

const HASH_BOTH = { md5: true, crc64nvme: true, sha256: false };
const cached = new Map<string, PartDigest>();

/** The pool, except parts `prepare()` hashed already. */
class PrecomputedHasher implements PartHasher {
  constructor(readonly pool: WorkerHashPool) {}
  hashPart(blob: Blob, start: number, end: number, options: Parameters<PartHasher['hashPart']>[3]) {
    const d = cached.get(`${start}-${end}`);
    return d ? Promise.resolve(d) : this.pool.hashPart(blob, start, end, options);
  }
  probe(blob: Blob, probeBytes: number) {
    return this.pool.probe(blob, probeBytes);
  }
  terminate() {
    this.pool.terminate();
  }
}

class SilentProgressTransport implements PartTransport {
  readonly #xhr = new XhrTransport();
  put(req: PutRequest) {
    return this.#xhr.put({ ...req, onProgress: () => {} });
  }
}

/** Reads the part into memory first, then sends it as a memory Blob or as bytes. */
class BufferedTransport implements PartTransport {
  readonly #xhr = new XhrTransport();
  constructor(readonly asBytes: boolean) {}
  async put(req: PutRequest) {
    const bytes = await req.body.arrayBuffer();
    const body = this.asBytes ? Object.assign(bytes, { size: bytes.byteLength }) : new Blob([bytes]);
    return this.#xhr.put({ ...req, body: body as unknown as Blob });
  }
}

const partsOf = (size: number, preferred?: number) => {
  const ps = choosePartSize(size, { preferred: preferred ?? DEFAULT_PART_SIZE });
  return Array.from({ length: partCount(size, ps) }, (_, i) => partRange(i + 1, ps, size));
};

/**
 * The hash cost alone: MD5 + CRC64NVME of the whole file, part by part at Chute's part size, in
 * one worker of the product's pool (worker start and WASM compile included, as in an upload).
 */
async function hashOnly(o: { partSize?: number }) {
  const file = theFile();
  const pool = new WorkerHashPool({ size: 1 });
  const t0 = performance.now();
  try {
    for (const r of partsOf(file.size, o.partSize)) await pool.hashPart(file, r.start, r.end, HASH_BOTH);
    return { ms: performance.now() - t0, bytes: file.size };
  } finally {
    pool.terminate();
  }
}

/** Work a knob needs done before the measured run (its CPU is not counted). */
async function prepare(o: Opts) {
  if (!o.knobs?.precomputed) return;
  const file = theFile();
  const pool = new WorkerHashPool({ size: 1 });
  cached.clear();
  try {
    for (const r of partsOf(file.size, o.partSize)) cached.set(`${r.start}-${r.end}`, await pool.hashPart(file, r.start, r.end, HASH_BOTH));
  } finally {
    pool.terminate();
  }
}

async function run(o: Opts) {
  const k = o.knobs ?? {};
  // Made when the page opens, as an app makes it (the React hook does): its preconnect to the
  // signer is part of the product, and a user picks the file some time after the page loaded.
  const engine = new ChuteEngine({
    endpoint: o.signerUrl,
    getAuthToken: () => o.token,
    partSize: o.partSize,
    checksumAlgorithm: o.checksum,
    store: k.store === 'idb' ? new IndexedDbRecordStore(`chute-bench-${Date.now()}`) : new MemoryRecordStore(),
    ...(k.noTabs || k.noChannel ? { channel: silentChannel } : {}),
    ...(k.noTabs || k.noLocks ? { locks: new MemoryLocks() } : {}),
    ...(k.precomputed ? { hasher: new PrecomputedHasher(new WorkerHashPool()) } : {}),
    ...(k.noProgress ? { transport: new SilentProgressTransport() } : {}),
    ...(k.memoryBlob || k.arrayBufferBody ? { transport: new BufferedTransport(k.arrayBufferBody === true) } : {}),
    ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    ...(o.engine ?? {}),
  });
  await pause(o.pickMs ?? 0);
  return measure(async () => {
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
      cached.clear();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run, hashOnly, prepare };
