// Hashing throughput in Chromium: each algorithm on the main thread (hash-wasm single-thread),
// in one worker, and in a pool of N workers, over the same disk-backed File read part by part.
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../lib/browser.js';
import { buildPages } from '../lib/build-pages.js';
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
  const size = (ctx.quick ? 32 : 256) * MiB;
  const partSize = 8 * MiB;
  const reps = ctx.quick ? 1 : 2;
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

  // @chute/uploader's pool page needs a bundler (its worker is a module URL); built fresh each run.
  const built = path.join(ctx.workDir, 'hash-pages');
  let chuteBuilt = false;
  let chuteBuildError = '';
  try {
    chuteBuilt = (await buildPages(path.join(here, 'page'), built, ['chute-hash'])).length === 1;
  } catch (err) {
    chuteBuildError = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
  }
  const server = await startStaticServer(hashPageRoutes(), chuteBuilt ? built : undefined);
  const browser = await launchChromium();
  try {
    const { page } = browser;
    await page.goto(`${server.url}/hash.html`);
    await page.waitForFunction(() => 'hashBench' in window);
    await page.setInputFiles('#file', file);
    const cores = await page.evaluate(() => (window as unknown as { hashBench: { cores: number } }).hashBench.cores);
    const poolSize = Math.max(2, cores);
    const run = (algo: Algo, mode: 'main' | 'pool', workers: number, source: 'file' | 'memory' = 'file') =>
      page.evaluate(
        (o) => (window as unknown as { hashBench: { run(x: unknown): Promise<RunResult> } }).hashBench.run(o),
        { algo, mode, workers, partSize, source },
      );
    const rate = (r: RunResult) => r.bytes / 1e6 / (r.ms / 1000);

    const figures: Figure[] = [];
    const mismatches: string[] = [];
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
    // Control: the same pool running plain integer work. Its scaling is what the machine allows
    // right now (other processes share the cores); hashing pools cannot scale better than this.
    {
      const one: number[] = [];
      const pool: number[] = [];
      for (let i = 0; i < reps; i++) {
        one.push(rate(await run('spin' as Algo, 'pool', 1)));
        pool.push(rate(await run('spin' as Algo, 'pool', poolSize)));
      }
      const o = median(one);
      raw.spinControl = { oneWorker: one, pool };
      figures.push({
        label: `CPU control (plain integer loop over the file bytes, no hashing): pool of ${poolSize} workers`,
        value: median(pool),
        unit: 'MB/s',
        better: 'higher',
        peer: { label: `${poolSize} × 1 worker`, value: o == null ? null : o * poolSize },
        note: 'the scaling file-backed work allowed during this run (reads included)',
      });
    }
    // Second control: the same pools hashing bytes the workers already hold (no file read). The
    // gap between this and the file-backed figures is what reading a File costs: on 2 cores the
    // browser process and the renderer's IO thread spend ~2 ms of CPU per MB read, taken from
    // the same cores the workers hash on.
    for (const algo of ['md5', 'crc64nvme', 'spin'] as const) {
      const one: number[] = [];
      const pool: number[] = [];
      for (let i = 0; i < reps; i++) {
        one.push(rate(await run(algo as Algo, 'pool', 1, 'memory')));
        pool.push(rate(await run(algo as Algo, 'pool', poolSize, 'memory')));
      }
      const o = median(one);
      raw[`${algo}InMemory`] = { oneWorker: one, pool };
      figures.push({
        label: `${algo === 'spin' ? 'CPU control (integer loop)' : LABEL[algo as Algo]} on in-memory bytes (no file read): pool of ${poolSize} workers`,
        value: median(pool),
        unit: 'MB/s',
        better: 'higher',
        peer: { label: `${poolSize} × 1 worker, in memory`, value: o == null ? null : o * poolSize },
        note: 'isolates the pool\'s own scaling from the cost of reading the file',
      });
    }
    // The product's own pool (@chute/uploader WorkerHashPool), 1 worker vs N.
    if (chuteBuilt) {
      await page.goto(`${server.url}/chute-hash.html`);
      await page.waitForFunction(() => 'chuteHash' in window);
      await page.setInputFiles('#file', file);
      const chuteRun = (algo: string, workers: number) =>
        page.evaluate(
          (o) => (window as unknown as { chuteHash: { run(x: unknown): Promise<RunResult> } }).chuteHash.run(o),
          { algo, workers, partSize },
        );
      for (const algo of ['md5+crc64nvme', 'md5', 'crc64nvme', 'sha256']) {
        const one: number[] = [];
        const pool: number[] = [];
        for (let i = 0; i < reps; i++) {
          const a = await chuteRun(algo, 1);
          const b = await chuteRun(algo, poolSize);
          if (algo.startsWith('md5') && a.firstDigest !== expected.md5) mismatches.push(`chute ${algo}: md5 ≠ node:crypto`);
          if (algo === 'sha256' && b.firstDigest !== expected.sha256) mismatches.push('chute sha256 ≠ node:crypto');
          one.push(rate(a));
          pool.push(rate(b));
        }
        raw[`chute:${algo}`] = { oneWorker: one, pool };
        const o = median(one);
        figures.push({
          label: `@chute/uploader WorkerHashPool, ${algo === 'md5+crc64nvme' ? 'MD5 + CRC64NVME (default)' : algo}: ${poolSize} workers`,
          value: median(pool),
          unit: 'MB/s',
          better: 'higher',
          peer: { label: `${poolSize} × its 1-worker rate (${o?.toFixed(0)} MB/s)`, value: o == null ? null : o * poolSize },
          target: { text: '≥ 0.9×', min: 0.9 },
        });
      }
    }
    // Every mode must agree on the digest, and match node:crypto where Node has the algorithm.
    for (const [algo, set] of digests) {
      if (set.size !== 1) mismatches.push(`${algo}: modes disagree`);
      const want = expected[algo];
      if (want && !set.has(want)) mismatches.push(`${algo}: ≠ node:crypto`);
    }
    if (mismatches.length > 0) throw new Error(`wrong digests: ${mismatches.join(', ')}`);
    return {
      status: 'ok',
      conditions: `${size / MiB} MiB disk-backed File, ${partSize / MiB} MiB parts read with blob.slice() in the worker, median of ${reps}; Chromium ${browser.version}, navigator.hardwareConcurrency = ${cores}. Rows without "@chute/uploader" use this bench page's own hash-wasm/WebCrypto workers; "@chute/uploader WorkerHashPool" rows use the product's pool${chuteBuilt ? '' : ` (not built: ${chuteBuildError})`}. With ${cores} cores the main thread and the pool compete for the same CPUs, so pool efficiency is bounded by what else runs.`,
      figures,
      extra: { ratesMBps: raw },
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
