// Test harness: drives @chute/uploader (and stock @uppy/aws-s3 with Chute's signRequest helper)
// from Playwright through `window.harness`. Only JSON crosses the boundary.
import {
  ChuteEngine,
  crc64CombineAll,
  type EngineChecksum,
  IndexedDbRecordStore,
  systemClock,
  TransportError,
  type Upload,
  UploaderError,
  WorkerHashPool,
  XhrTransport,
} from '@chute/uploader';
import { chuteAwsS3Options } from '@chute/uploader/uppy';
import AwsS3 from '@uppy/aws-s3';
import Uppy, { type Body, type Meta } from '@uppy/core';
import './resume.js';

export interface HarnessOptions {
  concurrency?: number;
  partSize?: number;
  multipartThreshold?: number;
  checksumAlgorithm?: EngineChecksum;
  stallTimeoutMs?: number;
  /** Send these bytes wrong (after hashing) on the given attempt of the given part. */
  corrupt?: { partNumber: number; attempt: number };
  /** Make the engine's clock run behind by this much (URLs look fresh when they have expired). */
  clockSkewMs?: number;
  signBatchSize?: number;
  /** The signer's URL when it is not the page's origin, and the bearer token to send it. */
  endpoint?: string;
  authToken?: string;
}

const log = {
  statuses: [] as string[],
  hashed: {} as Record<number, number>,
  uploaded: [] as number[],
  kept: [] as number[],
  retries: [] as string[],
  longTasks: [] as number[],
  /** Long animation frames (> 50 ms) with the scripts that ran in them, to explain a long task. */
  longFrames: [] as string[],
  corrupted: 0,
};

let engine: ChuteEngine | undefined;
let current: Upload | undefined;
let pending: Promise<unknown> | undefined;

function pickedFile(): File {
  const file = (document.getElementById('file') as HTMLInputElement).files?.[0];
  if (!file) throw new Error('no file selected');
  return file;
}

function makeEngine(o: HarnessOptions): ChuteEngine {
  const skew = o.clockSkewMs ?? 0;
  return new ChuteEngine({
    endpoint: o.endpoint ?? '',
    ...(o.authToken ? { getAuthToken: () => o.authToken } : {}),
    concurrency: o.concurrency ?? 4,
    partSize: o.partSize ?? 5 * 1024 * 1024,
    multipartThreshold: o.multipartThreshold ?? 5 * 1024 * 1024,
    checksumAlgorithm: o.checksumAlgorithm ?? 'CRC64NVME',
    stallTimeoutMs: o.stallTimeoutMs ?? 30_000,
    ...(o.signBatchSize ? { signBatchSize: o.signBatchSize } : {}),
    retry: { maxRetries: 10, baseDelayMs: 250, maxDelayMs: 2_000 },
    clock: { now: () => Date.now() - skew, sleep: systemClock.sleep },
    ...(o.corrupt
      ? {
          testHooks: {
            partBody: ({ partNumber, attempt }, body) => {
              if (partNumber !== o.corrupt?.partNumber || attempt !== o.corrupt.attempt) return body;
              log.corrupted++;
              // Same length, 16 bytes overwritten: only the Content-MD5 check can catch it. (One
              // overwritten byte left random bytes unchanged in 1 of 256 runs; 16 do with odds of 2^-128.)
              return new Blob([body.slice(0, 100), new Uint8Array(16).fill(0x5a), body.slice(116)]);
            },
          },
        }
      : {}),
  });
}

function start(o: HarnessOptions = {}) {
  engine?.destroy();
  engine = makeEngine(o);
  const upload = engine.add(pickedFile());
  current = upload;
  upload.on('status', (s) => log.statuses.push(s));
  upload.on('part-hashed', (n) => {
    log.hashed[n] = (log.hashed[n] ?? 0) + 1;
  });
  upload.on('part-uploaded', (n) => log.uploaded.push(n));
  upload.on('part-kept', (n) => log.kept.push(n));
  upload.on('retry', (r) => log.retries.push(`${r.partNumber ?? '-'}: ${r.reason}`));
  pending = upload.start().then(
    (result) => ({ ok: true as const, result, peak: engine?.inFlight.peak ?? 0 }),
    (err: unknown) => ({
      ok: false as const,
      error: err instanceof UploaderError ? { code: err.code, message: err.message } : { code: 'unknown', message: String(err) },
    }),
  );
  return { id: upload.id };
}

function observeLongTasks() {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) log.longTasks.push(Math.round(entry.duration));
  }).observe({ type: 'longtask', buffered: false });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as LongFrame[]) {
        const scripts = entry.scripts.map((s) => `${s.invoker} ${s.sourceFunctionName}@${s.sourceURL.split('/').pop()} ${Math.round(s.duration)}ms`);
        log.longFrames.push(`${Math.round(entry.duration)}ms blocking ${Math.round(entry.blockingDuration)}ms: ${scripts.join('; ') || '(no script)'}`);
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    // Long Animation Frames API missing: long tasks alone are still observed.
  }
}

interface LongFrame {
  duration: number;
  blockingDuration: number;
  scripts: { invoker: string; sourceFunctionName: string; sourceURL: string; duration: number }[];
}

async function stockUppy(partSize: number) {
  const uppy = new Uppy<Meta, Body>({ id: 'stock', autoProceed: false });
  uppy.use(AwsS3, { ...chuteAwsS3Options({ uppy, endpoint: '', partSize, multipartThreshold: partSize }), limit: 2 });
  const file = pickedFile();
  uppy.addFile({ name: file.name, type: file.type || 'application/octet-stream', data: file });
  const errors: string[] = [];
  uppy.on('upload-error', (_f, err) => errors.push(err.message));
  const result = await uppy.upload();
  const ok = result?.successful?.[0];
  return {
    ok: Boolean(ok) && errors.length === 0,
    errors,
    key: (ok?.response?.body as { key?: string } | undefined)?.key,
  };
}

/**
 * `count` small files made in the page, all handed to one engine at once (as a dropped folder):
 * each file's key, size and MD5 as the page computed it, or its error.
 */
async function manySmall(count: number, size: number, o: HarnessOptions = {}) {
  const many = makeEngine(o);
  const files = Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(size + i);
    crypto.getRandomValues(bytes);
    return new File([bytes], `small-${i}.bin`, { type: 'application/octet-stream' });
  });
  const outcomes = await Promise.all(
    files.map((f) =>
      many.upload(f).then(
        (r) => ({ ok: true as const, key: r.key, size: r.size, etag: r.etag, level: r.verification.level }),
        (err: unknown) => ({ ok: false as const, code: err instanceof UploaderError ? err.code : String(err), message: String((err as Error)?.message ?? err) }),
      ),
    ),
  );
  many.destroy();
  return { outcomes };
}

/** The worker pool against known vectors, and part CRCs combined vs one pass over the whole blob. */
async function hashSelfTest() {
  const pool = new WorkerHashPool({ size: 2 });
  const all = { md5: true, crc64nvme: true, sha256: true };
  const check = await pool.hashPart(new Blob(['xx123456789yy']), 2, 11, all);
  const bytes = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const blob = new Blob([bytes]);
  const partSize = 1024 * 1024;
  const parts = await Promise.all(
    Array.from({ length: 4 }, (_, i) => pool.hashPart(blob, i * partSize, Math.min((i + 1) * partSize, blob.size), all)),
  );
  const whole = await pool.hashPart(blob, 0, blob.size, all);
  const combined = crc64CombineAll(parts.map((p) => ({ crc: BigInt(`0x${p.crc64nvme}`), size: p.size })));
  const probeA = await pool.probe(blob, 65536);
  const probeB = await pool.probe(new Blob([bytes.slice(0, -1), new Uint8Array([(bytes.at(-1) ?? 0) ^ 1])]), 65536);
  // A single-PUT file's probe comes with its digests from one read: it must equal probe()'s.
  const merged = await Promise.all(
    [0, 1000, 65536, 100_000, 131_072, 200_000].map(async (n) => {
      const b = new Blob([bytes.subarray(0, n)]);
      const d = await pool.hashPart(b, 0, n, { md5: true, crc64nvme: true, sha256: false, probeBytes: 65536 });
      const alone = await pool.hashPart(b, 0, n, { md5: true, crc64nvme: true, sha256: false });
      return d.probe === (await pool.probe(b, 65536)) && d.md5 === alone.md5 && d.crc64nvme === alone.crc64nvme;
    }),
  );
  pool.terminate();
  return {
    check,
    combined: combined.toString(16).padStart(16, '0'),
    whole: whole.crc64nvme,
    sizes: parts.map((p) => p.size),
    probesDiffer: probeA !== probeB,
    mergedProbesMatch: merged,
    poolSize: new WorkerHashPool().size,
    cores: navigator.hardwareConcurrency,
  };
}

/** IndexedDB records survive a new store instance (as after a reload). */
async function recordStoreSelfTest() {
  const name = `chute-selftest-${Math.random()}`;
  const a = new IndexedDbRecordStore(name);
  const record = {
    fingerprint: 'fp-1', endpoint: '', name: 'a.bin', type: '', size: 10, lastModified: 1, key: 'k', uploadId: 'u',
    token: 't', tokenExpiresAt: Date.now() + 60_000, partSize: 5, partCount: 2, checksumAlgorithm: 'CRC64NVME', createdAt: 1,
  };
  await a.put(record);
  const b = new IndexedDbRecordStore(name);
  const got = await b.get('fp-1');
  const listed = (await b.list()).length;
  await b.delete('fp-1');
  return { same: JSON.stringify(got) === JSON.stringify(record), listed, afterDelete: (await a.list()).length };
}

/** An XHR PUT that stops making progress is aborted after stallTimeoutMs and reported as stalled. */
async function stallSelfTest(url: string, stallTimeoutMs: number) {
  const started = performance.now();
  try {
    await new XhrTransport().put({
      url,
      headers: {},
      body: new Blob([new Uint8Array(4 * 1024 * 1024)]),
      stallTimeoutMs,
      signal: new AbortController().signal,
      onProgress: () => {},
    });
    return { kind: 'sent', ms: performance.now() - started };
  } catch (err) {
    return { kind: err instanceof TransportError ? err.failure.kind : String(err), ms: performance.now() - started };
  }
}

Object.assign(window, {
  harness: {
    log,
    start,
    wait: () => pending,
    upload: (o?: HarnessOptions) => {
      start(o);
      return pending;
    },
    pause: () => current?.pause(),
    resume: () => current?.resume(),
    cancel: () => current?.cancel(),
    status: () => current?.status,
    observeLongTasks,
    stockUppy,
    manySmall,
    hashSelfTest,
    // One part through a one-worker pool (read + hash in the worker), for ad-hoc speed checks.
    hashPart: async (blob: Blob, options: { md5: boolean; crc64nvme: boolean; sha256: boolean }) => {
      const pool = new WorkerHashPool({ size: 1 });
      await pool.hashPart(new Blob(['warm-up']), 0, 7, options);
      try {
        return await pool.hashPart(blob, 0, blob.size, options);
      } finally {
        pool.terminate();
      }
    },
    recordStoreSelfTest,
    stallSelfTest,
  },
});
