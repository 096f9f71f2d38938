// Growth bench (`pnpm bench --growth`, and part of `pnpm bench` / `--quick`): does Chute stay flat
// as uploads grow?
// (a) File size: one file at a time, 16 MiB → 4 GiB, Chromium → chute-server → local-r2 on plain
//     loopback (no link shaping: loopback measures the machine's CPU, not a user's link), Chute as
//     shipped. Per size: throughput, the page's JS heap peak (CDP Performance.getMetrics
//     JSHeapUsedSize, sampled every 200 ms during the upload) and the renderer's resident memory
//     peak (VmRSS from /proc, every 100 ms; the hashing workers live in the renderer process).
// (b) Part count: signing and completing 1,000- and 10,000-part uploads (parts.ts).
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { choosePartSize, DEFAULT_PART_SIZE, partCount } from '@chute/protocol';
import { startLocalR2Process } from '../../reliability/lib/services.js';
import { startSignerProcess } from '../../reliability/lib/signer-process.js';
import { type Browser, launchChromium, sampleHeap } from '../lib/browser.js';
import { putBenchCors } from '../lib/bucket-cors.js';
import { buildPages } from '../lib/build-pages.js';
import { ourChromium } from '../lib/cpu.js';
import { MiB } from '../lib/files.js';
import { startStaticServer } from '../lib/static-server.js';
import { type Figure, median, type Section } from '../report.js';
import type { BenchContext } from '../sections.js';
import type { PageResult } from '../upload/page/common.js';
import { s3Client, type StoreAccess } from '../upload/peers.js';
import { benchEngineParts, type EnginePartsRun } from './engine-parts.js';
import { benchManyParts, type ManyPartsResult, UPLOADER_SIGN_BATCH } from './parts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUCKET = 'bench';
const CREDS = { accessKeyId: 'chute-bench', secretAccessKey: 'chute-bench-secret-key-0123456789' };
const TOKEN = 'bench-user-token';
export const GROWTH_COMMAND = 'pnpm bench --growth';

/**
 * A file of `size` bytes written fast: sparse, with 64 KiB of fresh random-ish bytes at the start
 * of every MiB (so no two parts are equal). Reading it costs no disk I/O, so the upload measures
 * the uploader, the signer and the store, not this machine's disk read speed. MD5 and CRC64NVME
 * cost the same on any bytes.
 */
export function makeSparseFile(file: string, size: number): string {
  const fd = openSync(file, 'w');
  try {
    const block = Buffer.alloc(64 * 1024);
    let x = (size ^ 0x9e3779b9) >>> 0;
    for (let off = 0; off < size; off += MiB) {
      for (let i = 0; i < block.length; i += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        block.writeUInt32LE(x >>> 0, i);
      }
      writeSync(fd, block, 0, Math.min(block.length, size - off), off);
    }
    // The length, without writing the zeros in between.
    writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Pids of this bench's Chromium renderers (lib/cpu.ts: the Chromium tree this process launched). */
const ourRenderers = (): number[] => [...ourChromium(new Map())].filter(([, group]) => group === 'chromium renderer').map(([pid]) => pid);

const rssOf = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};

/** Peak of the largest of our renderers' RSS (the page's), sampled every 100 ms; `start` is the value when sampling began. */
function sampleRendererRss(): { start: number; stop(): number } {
  const pids = ourRenderers();
  const now = () => Math.max(0, ...pids.map(rssOf));
  const start = now();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, now());
  }, 100);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, now());
    },
  };
}

interface SizeRun {
  mib: number;
  parts: number;
  mode: 'single PUT' | 'multipart';
  mbps: number[];
  heapPeakMB: number[];
  heapStartMB: number[];
  rssPeakMB: number[];
  rssStartMB: number[];
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const MB = 1e6;

export async function benchGrowth(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  const started = Date.now();
  const log = (s: string) => console.log(`[bench] growth: ${s}`);
  const sizesMiB = process.env.CHUTE_BENCH_GROWTH_MIB?.split(',').map(Number) ?? (ctx.quick ? [16, 64] : [16, 256, 1024, 4096]);
  // Medians of 3 (2 at 4 GiB, ~1 min each here); quick: one run each.
  const repsOf = (mib: number) => Number(process.env.CHUTE_BENCH_GROWTH_REPS ?? (ctx.quick ? 1 : mib >= 4096 ? 2 : 3));
  const dataDir = path.join(ctx.workDir, 'growth-r2');
  mkdirSync(dataDir, { recursive: true });
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const runs: SizeRun[] = [];
  const errors: string[] = [];
  let chromium = '';
  try {
    const r2 = await startLocalR2Process(dataDir, BUCKET, 0, ['--access-key-id', CREDS.accessKeyId, '--secret-access-key', CREDS.secretAccessKey]);
    cleanup.push(() => r2.kill());
    const pagesDir = path.join(ctx.workDir, 'growth-pages');
    await buildPages(path.join(here, 'page'), pagesDir, ['growth']);
    const web = await startStaticServer({}, pagesDir);
    cleanup.push(() => web.close());
    const store: StoreAccess = { endpoint: r2.url, bucket: BUCKET, ...CREDS };
    const s3 = s3Client(store);
    // The single PUT's answer carries the stored object's checksum: the page must be able to read it.
    await putBenchCors(s3, BUCKET, web.url, { exposeChecksums: true });
    const signer = await startSignerProcess({ bucket: BUCKET, credentials: CREDS, tokens: { [TOKEN]: 'bench' }, corsOrigins: [web.url], storeEndpoint: r2.url });
    cleanup.push(() => signer.kill());
    const browser: Browser = await launchChromium();
    cleanup.push(() => browser.close());
    chromium = browser.version;

    const upload = async (file: string) => {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${web.url}/growth.html`);
        await page.waitForFunction(() => 'bench' in window);
        await page.setInputFiles('#file', file);
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Performance.enable');
        const heapStart = (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
        await cdp.detach().catch(() => {});
        const rss = sampleRendererRss();
        const stopHeap = await sampleHeap(page);
        const r = await page.evaluate((o) => (window as unknown as { bench: { run(x: unknown): Promise<PageResult> } }).bench.run(o), { signerUrl: signer.url, token: TOKEN });
        const heapPeak = Math.max(await stopHeap(), r.heapPeak);
        const rssPeak = rss.stop();
        return { ...r, heapPeak, heapStart, rssPeak, rssStart: rss.start };
      } finally {
        await page.close();
      }
    };

    for (const mib of sizesMiB) {
      const size = mib * MiB;
      const file = path.join(ctx.workDir, `growth-${mib}MiB.bin`);
      const t0 = Date.now();
      makeSparseFile(file, size);
      const ps = choosePartSize(size, { preferred: DEFAULT_PART_SIZE });
      const run: SizeRun = {
        mib,
        parts: size <= DEFAULT_PART_SIZE ? 1 : partCount(size, ps),
        mode: size <= DEFAULT_PART_SIZE ? 'single PUT' : 'multipart',
        mbps: [],
        heapPeakMB: [],
        heapStartMB: [],
        rssPeakMB: [],
        rssStartMB: [],
      };
      runs.push(run);
      log(`${mib} MiB: file made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      try {
        for (let rep = 0; rep < repsOf(mib); rep++) {
          const r = await upload(file);
          // A multipart upload: the store confirmed the whole-object CRC64NVME (the single PUT: its Content-MD5, one checksum per request). A single PUT carries
          // one checksum only (R2 refuses two), its Content-MD5, which the ETag confirms.
          const want = run.mode === 'multipart' ? ['CRC64NVME'] : ['CRC64NVME', 'MD5'];
          if (!want.includes(String(r.detail?.verifiedBy))) throw new Error(`${mib} MiB: verified by ${String(r.detail?.verifiedBy)}, not ${want.join(' or ')}`);
          const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: r.key }));
          if (head.ContentLength !== size) throw new Error(`${mib} MiB: stored ${head.ContentLength} bytes`);
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: r.key }));
          const rate = size / MB / (r.ms / 1000);
          run.mbps.push(r1(rate));
          run.heapPeakMB.push(r1(r.heapPeak / MB));
          run.heapStartMB.push(r1(r.heapStart / MB));
          run.rssPeakMB.push(r1(r.rssPeak / MB));
          run.rssStartMB.push(r1(r.rssStart / MB));
          log(`${mib} MiB rep ${rep + 1}: ${rate.toFixed(1)} MB/s, page JS heap peak ${(r.heapPeak / MB).toFixed(1)} MB (at start ${(r.heapStart / MB).toFixed(1)}), renderer RSS peak ${(r.rssPeak / MB).toFixed(0)} MB (at start ${(r.rssStart / MB).toFixed(0)})`);
        }
      } catch (err) {
        errors.push(`${mib} MiB: ${err instanceof Error ? err.message : String(err)}`);
        log(`${mib} MiB failed: ${String(err)}`);
      } finally {
        rmSync(file, { force: true });
      }
    }
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // keep tearing down
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  let parts: ManyPartsResult | undefined;
  try {
    parts = await benchManyParts({ quick: ctx.quick, workDir: ctx.workDir, log: (s) => log(`parts: ${s}`) });
  } catch (err) {
    errors.push(`parts: ${err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 2).join(' ') : String(err)}`);
  }

  const engineRuns: EnginePartsRun[] = [];
  try {
    for (const count of ctx.quick ? [1000] : [1000, 10_000]) {
      const r = await benchEngineParts(count);
      engineRuns.push(r);
      log(`engine: ${count} parts in ${r.ms} ms, heap kept ${r.retainedBytesPerPart} B per part (${r.heapAtPart50MB} → ${r.heapNearEndMB} MB)`);
    }
  } catch (err) {
    errors.push(`engine parts: ${err instanceof Error ? err.message : String(err)}`);
  }

  const figures: Figure[] = [];
  const med = (xs: number[]) => median(xs);
  const base = runs.find((r) => r.mbps.length > 0 && r.mode === 'multipart');
  for (const r of runs) {
    if (r.mbps.length === 0) continue;
    const label = `${r.mib >= 1024 ? `${r.mib / 1024} GiB` : `${r.mib} MiB`} (${r.mode}${r.mode === 'multipart' ? `, ${r.parts} parts` : ''})`;
    figures.push({
      label: `throughput, one ${label}`,
      value: med(r.mbps),
      unit: 'MB/s',
      better: 'higher',
      ...(base && base !== r && r.mode === 'multipart' ? { peer: { label: `the same at ${base.mib} MiB`, value: med(base.mbps) }, target: { text: 'flat: ≥ 0.9×', min: 0.9 } } : {}),
    });
    figures.push({
      label: `page JS heap peak during the upload, ${label}`,
      value: med(r.heapPeakMB),
      unit: 'MB',
      better: 'lower',
      ...(base && base !== r && r.mode === 'multipart' ? { peer: { label: `the same at ${base.mib} MiB`, value: med(base.heapPeakMB) }, target: { text: 'flat: ≥ 0.8×', min: 0.8 } } : {}),
      note: `heap at start ${med(r.heapStartMB) ?? '—'} MB`,
    });
    figures.push({
      label: `renderer RSS peak during the upload (page + hashing workers), ${label}`,
      value: med(r.rssPeakMB),
      unit: 'MB',
      better: 'lower',
      ...(base && base !== r && r.mode === 'multipart' ? { peer: { label: `the same at ${base.mib} MiB`, value: med(base.rssPeakMB) } } : {}),
      note: `at start ${med(r.rssStartMB) ?? '—'} MB`,
    });
  }
  const fmt = (v: number | null | undefined) => (v == null ? '—' : String(Math.round(v * 10) / 10));
  const sizeRows = runs.map((r) => [
    r.mib >= 1024 ? `${r.mib / 1024} GiB` : `${r.mib} MiB`,
    r.mode === 'multipart' ? String(r.parts) : '1 (single PUT)',
    r.mbps.length,
    fmt(med(r.mbps)),
    fmt(med(r.heapStartMB)),
    fmt(med(r.heapPeakMB)),
    fmt(med(r.rssStartMB)),
    fmt(med(r.rssPeakMB)),
  ]);
  const partRows: (string | number)[][] = [];
  if (parts) {
    for (const [count, s] of Object.entries(parts.sign)) {
      const c = parts.completeStandIn[count];
      partRows.push([
        Number(count).toLocaleString('en'),
        s.totalMs,
        s.msPer1000,
        s.calls,
        s.callMedianMs,
        (s.answerBytes / MB).toFixed(2),
        c?.ms ?? '—',
        c?.msPer1000 ?? '—',
        c ? (c.clientRequestBytes / MB).toFixed(2) : '—',
        c?.listPages ?? '—',
        c?.standInMs ?? '—',
        c?.verification ?? '—',
      ]);
    }
    for (const count of Object.keys(parts.sign)) {
      const s = parts.sign[count];
      const c = parts.completeStandIn[count];
      const n = Number(count).toLocaleString('en');
      figures.push({
        label: `sign all ${n} part URLs, ${UPLOADER_SIGN_BATCH} a call one call at a time (as @chute/uploader asks), chute-server over loopback (median of ${parts.reps})`,
        value: s?.totalMs ?? null,
        unit: 'ms',
        better: 'lower',
        note: `${s?.msPer1000 ?? '—'} ms per 1,000 parts; ${s?.calls ?? '—'} calls, median call ${s?.callMedianMs ?? '—'} ms`,
      });
      figures.push({
        label: `complete a ${n}-part upload (ListParts pages, checks, CompleteMultipartUpload, HeadObject), store stand-in (median of ${parts.reps})`,
        value: c?.ms ?? null,
        unit: 'ms',
        better: 'lower',
        note: `${c?.msPer1000 ?? '—'} ms per 1,000 parts, of which the stand-in's own handling ${c?.standInMs ?? '—'} ms; ${c?.verification ?? ''}`,
      });
    }
    if (parts.completeReal) {
      const c = parts.completeReal;
      figures.push({
        label: `complete a ${c.parts.toLocaleString('en')}-part upload with the parts really stored in local-r2 (${((c.parts * parts.partBytes) / 2 ** 30).toFixed(1)} GiB)`,
        value: c.ms,
        unit: 'ms',
        better: 'lower',
        note: `${c.msPer1000} ms per 1,000 parts; ${c.verification}`,
      });
    }
    const s1 = parts.sign['1000'];
    const s10 = parts.sign['10000'];
    const c1 = parts.completeStandIn['1000'];
    const c10 = parts.completeStandIn['10000'];
    if (s1 && s10) figures.push({ label: 'signing per 1,000 parts at 10,000 parts', value: s10.msPer1000, unit: 'ms', better: 'lower', peer: { label: 'at 1,000 parts', value: s1.msPer1000 }, target: { text: 'linear: ≥ 0.8×', min: 0.8 } });
    if (c1 && c10) figures.push({ label: 'complete per 1,000 parts at 10,000 parts', value: c10.msPer1000, unit: 'ms', better: 'lower', peer: { label: 'at 1,000 parts', value: c1.msPer1000 }, target: { text: 'linear: ≥ 0.8×', min: 0.8 } });
  }

  const e1 = engineRuns.find((r) => r.parts === 1000);
  for (const r of engineRuns) {
    const n = r.parts.toLocaleString('en');
    figures.push({
      label: `@chute/uploader's own time for a ${n}-part upload (instant signer, transport and hasher in Node: the engine's bookkeeping alone)`,
      value: r.ms,
      unit: 'ms',
      better: 'lower',
      ...(e1 && e1 !== r ? { peer: { label: `${(e1.ms * (r.parts / e1.parts)).toFixed(0)} ms: linear from 1,000 parts`, value: e1.ms * (r.parts / e1.parts) }, target: { text: 'linear: ≥ 0.8×', min: 0.8 } } : {}),
    });
    figures.push({
      label: `heap the engine keeps per part during a ${n}-part upload (after a full GC)`,
      value: r.retainedBytesPerPart,
      unit: 'B',
      better: 'lower',
      note: `${r.heapAtPart50MB} MB at part 50, ${r.heapNearEndMB} MB near the end`,
    });
  }

  const ok = runs.some((r) => r.mbps.length > 0) || parts !== undefined;
  return {
    status: ok && errors.length === 0 ? 'ok' : ok ? 'ok' : 'failed',
    ...(errors.length > 0 ? { reason: errors.join('; ') } : {}),
    conditions: [
      `Reproduce with \`${GROWTH_COMMAND}\` (about ${Math.round((Date.now() - started) / 60_000)} min here).`,
      `(a) One file at a time, Chromium ${chromium} → chute-server → local-r2, all on plain loopback (throughput here measures this 2-core machine's CPU — browser, hashing workers, signer and store share it — not a link); Chute as shipped (only the signer URL set: default 16 MiB parts, 5 lanes, MD5 + CRC64NVME in workers, resume records in IndexedDB), a fresh page per upload. A file of 16 MiB is at the multipart threshold and goes as one PUT. The files are sparse (64 KiB of fresh bytes per MiB, zeros between) so reading them costs no disk I/O; every stored object's size is checked and the store confirmed the whole-object CRC64NVME (the single PUT: its Content-MD5, one checksum per request). Heap: the page's main-thread JS heap (CDP Performance.getMetrics JSHeapUsedSize, every 200 ms, and performance.memory every 100 ms), peak; renderer RSS: VmRSS of the page's renderer process (where the hashing workers run too) from /proc every 100 ms, peak. Medians of ${sizesMiB.map((m) => `${repsOf(m)} at ${m} MiB`).join(', ')} run(s), a fresh page each.`,
      `(b) Part count: chute-server (a real process, its 5 GiB file limit and 50 GiB daily quota lifted for this) on loopback signs every part of a 5 MiB-part upload ${UPLOADER_SIGN_BATCH} parts a call, one call at a time (as @chute/uploader's sign-ahead asks; each part's Content-MD5, the 'template' answer), then completes it. 10,000 real parts would be 50 GiB, so those completes go through a stand-in in front of local-r2 answering ListParts, CompleteMultipartUpload and HeadObject for the synthetic upload itself (its own handling time is reported apart); the complete with the parts really stored in local-r2 is measured at ${parts?.completeReal?.parts ?? '—'} parts.`,
      '(c) The engine at those part counts: @chute/uploader in Node with an instant signer, transport and hasher (no bytes read or sent; signed URLs of R2\'s length), so its own bookkeeping is what is timed, and the heap it keeps per part after a full GC.',
    ].join(' '),
    figures,
    tables: [
      {
        title: 'Growth in file size (Chute as shipped, Chromium, loopback; medians)',
        note: `Reproduce: \`${GROWTH_COMMAND}\`. Goal: flat — throughput and heap the same at 4 GiB as at 256 MiB.`,
        columns: ['file', 'parts', 'runs', 'MB/s', 'page JS heap at start (MB)', 'page JS heap peak (MB)', 'renderer RSS at start (MB)', 'renderer RSS peak (MB)'],
        rows: sizeRows,
      },
      ...(engineRuns.length
        ? [
            {
              title: "Growth in part count: @chute/uploader's own bookkeeping (Node, instant signer/transport/hasher)",
              note: 'Time from upload() to the complete call (two forced GCs included) and the heap kept per part (at 1,000 parts the change is within the GC noise of this process, ±0.2 MB: read the 10,000-part row); before commit b94f7ef the engine summed every part on each progress event and stored part and kept every signed URL: the same 10,000 parts took 65–83 s and kept ~1.1 kB per part (measured with the same harness, test/bench/growth/engine-parts.ts).',
              columns: ['parts', 'engine time (ms)', 'heap at part 50 (MB)', 'heap near the end (MB)', 'kept per part (B)'],
              rows: engineRuns.map((r) => [r.parts.toLocaleString('en'), r.ms, r.heapAtPart50MB, r.heapNearEndMB, r.retainedBytesPerPart]),
            },
          ]
        : []),
      ...(partRows.length
        ? [
            {
              title: 'Growth in part count: signing and complete (chute-server on loopback; medians)',
              columns: ['parts', 'sign all (ms)', 'sign ms / 1,000 parts', 'sign calls', 'median call (ms)', 'sign answers (MB)', 'complete (ms)', 'complete ms / 1,000 parts', 'complete request (MB)', 'ListParts pages', "stand-in's own ms", 'verification'],
              rows: partRows,
            },
          ]
        : []),
    ],
    extra: { command: GROWTH_COMMAND, sizes: runs, engineParts: engineRuns, ...(parts ? { parts } : {}) },
  };
}
