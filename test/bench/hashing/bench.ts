// Hashing throughput in Chromium: each algorithm on the main thread (hash-wasm single-thread),
// in one worker, and in a pool of N workers, over the same disk-backed File read part by part.
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.js';
import { MiB, makeRandomFile } from '../lib/files.js';
import { startStaticServer } from '../lib/static-server.js';
import { type Figure, median, type Section } from '../report.js';
import type { BenchContext } from '../sections.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const ALGOS = ['md5', 'crc64nvme', 'crc32c', 'sha256', 'sha256-webcrypto'] as const;
type Algo = (typeof ALGOS)[number];
const LABEL: Record<Algo, string> = {
  md5: 'MD5 (hash-wasm)',
  crc64nvme: 'CRC64NVME (hash-wasm)',
  crc32c: 'CRC32C (hash-wasm)',
  sha256: 'SHA-256 (hash-wasm)',
  'sha256-webcrypto': 'SHA-256 (WebCrypto)',
};

interface RunResult {
  ms: number;
  bytes: number;
  firstDigest: string;
  longTaskCount: number;
  longTaskMs: number;
}

export function hashPageRoutes(): Record<string, { file: string; type: string }> {
  const js = 'text/javascript; charset=utf-8';
  const hashWasm = path.join(path.dirname(require.resolve('hash-wasm/package.json')), 'dist/index.esm.js');
  return {
    '/hash.html': { file: path.join(here, 'page/hash.html'), type: 'text/html; charset=utf-8' },
    '/hash-page.js': { file: path.join(here, 'page/hash-page.js'), type: js },
    '/hash-worker.js': { file: path.join(here, 'page/hash-worker.js'), type: js },
    '/hash-core.js': { file: path.join(here, 'page/hash-core.js'), type: js },
    '/vendor/hash-wasm.js': { file: hashWasm, type: js },
  };
}

export async function benchHashing(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  const size = (ctx.quick ? 32 : 512) * MiB;
  const partSize = 8 * MiB;
  const reps = ctx.quick ? 1 : 3;
  const file = makeRandomFile(path.join(ctx.workDir, `hash-${size}.bin`), size);
  const firstPart = Buffer.alloc(partSize);
  const fd = openSync(file, 'r');
  readSync(fd, firstPart, 0, partSize, 0);
  closeSync(fd);
  const expected: Partial<Record<Algo, string>> = {
    md5: createHash('md5').update(firstPart).digest('hex'),
    sha256: createHash('sha256').update(firstPart).digest('hex'),
    'sha256-webcrypto': createHash('sha256').update(firstPart).digest('hex'),
  };

  const server = await startStaticServer(hashPageRoutes());
  const browser = await launchChromium();
  try {
    const { page } = browser;
    await page.goto(`${server.url}/hash.html`);
    await page.waitForFunction(() => 'hashBench' in window);
    await page.setInputFiles('#file', file);
    const cores = await page.evaluate(() => (window as unknown as { hashBench: { cores: number } }).hashBench.cores);
    const poolSize = Math.max(2, cores);
    const run = (algo: Algo, mode: 'main' | 'pool', workers: number) =>
      page.evaluate(
        (o) => (window as unknown as { hashBench: { run(x: unknown): Promise<RunResult> } }).hashBench.run(o),
        { algo, mode, workers, partSize },
      );
    const rate = (r: RunResult) => r.bytes / 1e6 / (r.ms / 1000);

    const figures: Figure[] = [];
    const raw: Record<string, unknown> = {};
    const digests = new Map<Algo, Set<string>>();
    let mainLong = { count: 0, ms: 0 };
    let poolLong = { count: 0, ms: 0 };
    for (const algo of ALGOS) {
      const main: number[] = [];
      const one: number[] = [];
      const pool: number[] = [];
      for (let i = 0; i < reps; i++) {
        for (const [mode, workers, into] of [
          ['main', 1, main],
          ['pool', 1, one],
          ['pool', poolSize, pool],
        ] as const) {
          const r = await run(algo, mode, workers);
          into.push(rate(r));
          digests.set(algo, (digests.get(algo) ?? new Set()).add(r.firstDigest));
          if (mode === 'main') mainLong = { count: mainLong.count + r.longTaskCount, ms: mainLong.ms + r.longTaskMs };
          if (mode === 'pool' && workers > 1) poolLong = { count: poolLong.count + r.longTaskCount, ms: poolLong.ms + r.longTaskMs };
        }
      }
      const m = median(main);
      const o = median(one);
      const p = median(pool);
      raw[algo] = { mainThread: main, oneWorker: one, pool };
      figures.push({
        label: `${LABEL[algo]}: pool of ${poolSize} workers`,
        value: p,
        unit: 'MB/s',
        better: 'higher',
        peer: { label: `${poolSize} × 1 worker`, value: o == null ? null : o * poolSize },
        target: { text: '≥ 0.9×', min: 0.9 },
      });
      figures.push({
        label: `${LABEL[algo]}: 1 worker`,
        value: o,
        unit: 'MB/s',
        better: 'higher',
        peer: { label: 'main thread, single-thread', value: m },
      });
    }
    const whCrypto = figures.find((f) => f.label.startsWith('SHA-256 (WebCrypto): 1 worker'));
    const whWasm = figures.find((f) => f.label.startsWith('SHA-256 (hash-wasm): 1 worker'));
    figures.push({
      label: 'SHA-256 in 1 worker: WebCrypto',
      value: whCrypto?.value ?? null,
      unit: 'MB/s',
      better: 'higher',
      peer: { label: 'hash-wasm SHA-256', value: whWasm?.value ?? null },
    });
    figures.push({
      label: 'long tasks (> 50 ms) while hashing in the worker pool',
      value: poolLong.count,
      unit: 'tasks',
      better: 'lower',
      peer: { label: 'hashing on the main thread', value: mainLong.count },
      note: `${poolLong.ms.toFixed(0)} ms vs ${mainLong.ms.toFixed(0)} ms blocked in total`,
    });
    // Every mode must agree on the digest, and match node:crypto where Node has the algorithm.
    const mismatches: string[] = [];
    for (const [algo, set] of digests) {
      if (set.size !== 1) mismatches.push(`${algo}: modes disagree`);
      const want = expected[algo];
      if (want && !set.has(want)) mismatches.push(`${algo}: ≠ node:crypto`);
    }
    if (mismatches.length > 0) throw new Error(`wrong digests: ${mismatches.join(', ')}`);
    return {
      status: 'ok',
      conditions: `${size / MiB} MiB disk-backed File, ${partSize / MiB} MiB parts read with blob.slice() in the worker, median of ${reps}; Chromium ${browser.version}, navigator.hardwareConcurrency = ${cores}. Pool = hash-wasm/WebCrypto workers of this bench page (not yet @chute/uploader's pool).`,
      figures,
      extra: { ratesMBps: raw },
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
