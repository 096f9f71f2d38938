// The bench sections, in run order. Each returns its figures; run.ts adds id, title and timing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Figure, Section } from './report.js';

export interface BenchContext {
  quick: boolean;
  /** When the whole run should be done (ms since epoch); sections with a budget respect it. */
  deadline: number;
  /** A scratch directory removed after the run (under test/bench/tmp, git-ignored). */
  workDir: string;
}

export interface SectionDef {
  id: string;
  title: string;
  /** Not part of `--quick` (the smoke run CI executes). */
  fullOnly?: boolean;
  run(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Modules other helpers own (e.g. local-r2.ts) are loaded only if they exist yet. */
async function optionalModule(file: string): Promise<Record<string, unknown> | null> {
  if (!existsSync(path.join(here, `${file}.ts`))) return null;
  const spec = `./${file}.js`;
  return (await import(spec)) as Record<string, unknown>;
}

/** Figures from benchLocalR2's record (shape owned by test/bench/local-r2.ts; unknown fields stay raw). */
function localR2Figures(r: Record<string, unknown>): Figure[] {
  const num = (o: unknown, k: string): number | null => {
    const v = (o as Record<string, unknown> | undefined)?.[k];
    return typeof v === 'number' ? v : null;
  };
  const figures: Figure[] = [];
  if (r.put) {
    const rounds = (r.put as { rounds?: { diskMBps: number; serverMBps: number }[] }).rounds;
    figures.push({
      label: 'PUT ingest of one object through local-r2 (presigned PUT, fsynced)',
      value: num(r.put, 'serverMBps'),
      unit: 'MB/s',
      better: 'higher',
      peer: { label: 'raw fsynced disk write of the same bytes', value: num(r.put, 'diskMBps') },
      target: { text: '≥ 0.8×', min: 0.8 },
      ...(rounds?.length ? { note: `medians of ${rounds.length} alternating rounds (disk, then local-r2); disk / local-r2 MB/s per round: ${rounds.map((x) => `${x.diskMBps} / ${x.serverMBps}`).join(', ')}` } : {}),
    });
  }
  if (r.rss) figures.push({ label: 'peak RSS of local-r2 during that PUT', value: num(r.rss, 'peakHwmMB'), unit: 'MB', better: 'lower', target: { text: '< 150 MB', maxValue: 150 } });
  if (r.list) {
    const keys = num(r.list, 'keys');
    figures.push({
      label: `ListObjectsV2, one 1000-key page over ${keys ?? '?'} keys (middle of the bucket, median)`,
      value: num(r.list, 'middlePageMedianMs'),
      unit: 'ms',
      better: 'lower',
      target: { text: '< 100 ms', maxValue: 100 },
    });
  }
  return figures;
}

/** What a closed-loop p99 means: with 200 requests always in flight the wait is the queue. */
const closedLoopNote = (perSecond: number | null, p50: number | null) =>
  `closed loop at full throughput: 200 requests always in flight, so the latency is the queue (mean ≈ 200 ÷ throughput${perSecond ? ` = ${Math.round(200_000 / perSecond)} ms` : ''}; p50 ${p50 ?? '?'} ms), not the service time`;

const pctOf = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 100)}%` : '?');

function signerFigures(r: Record<string, unknown>): Figure[] {
  const get = (o: unknown, ...ks: string[]): unknown => ks.reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const figures: Figure[] = [];
  const mb = (v: unknown) => (typeof v === 'number' ? `${(v / 1e6).toFixed(1)} MB` : '?');
  for (const [key, answer] of [
    ['batch10000Template', "compact answer (format 'template', as @chute/uploader asks)"],
    ['batch10000', 'a full URL per part'],
  ] as const) {
    if (!r[key]) continue;
    figures.push({
      label: `sign 10,000 parts (10 requests of 1,000 at once), ${answer}, over HTTP (median)`,
      value: num(get(r, key, 'medianMs')),
      unit: 'ms',
      better: 'lower',
      target: { text: '≤ 100 ms', maxValue: 100 },
      note: `answer ${mb(get(r, key, 'answerBytes'))}`,
    });
  }
  if (r.creates) {
    const c = get(r, 'creates') as { files?: number; batch?: number; chute?: { wallMsPerFile?: number }; companion?: { wallMsPerFile?: number } };
    figures.push({
      label: `signer CPU per small file: single-PUT creates of ${c.files ?? '?'} files, ${c.batch ?? '?'} a call (POST /api/uploads/batch, as @chute/uploader batches them; 4 calls at once)`,
      value: num(get(r, 'creates', 'chute', 'cpuMsPerFile')),
      unit: 'ms',
      better: 'lower',
      peer: { label: "@uppy/companion 6 GET /s3/params (one request per file, as @uppy/aws-s3 asks; 4 at once)", value: num(get(r, 'creates', 'companion', 'cpuMsPerFile')) },
      note: `each server process's CPU from /proc over 3 rounds after a warm-up; wall ${c.chute?.wallMsPerFile ?? '?'} vs ${c.companion?.wallMsPerFile ?? '?'} ms per file`,
    });
  }
  if (r.singleSign200) {
    figures.push({
      label: 'single sign-part requests at 200 concurrent connections',
      value: num(get(r, 'singleSign200', 'chute', 'perSecond')),
      unit: 'req/s',
      better: 'higher',
      peer: { label: '@uppy/companion 6 sign-part', value: num(get(r, 'singleSign200', 'companion', 'perSecond')) },
      target: { text: '≥ 3×', min: 3 },
    });
    figures.push({
      label: 'sign-part p99 at 200 concurrent connections',
      value: num(get(r, 'singleSign200', 'chute', 'p99Ms')),
      unit: 'ms',
      better: 'lower',
      peer: { label: '@uppy/companion 6', value: num(get(r, 'singleSign200', 'companion', 'p99Ms')) },
      target: { text: '≤ 10 ms', maxValue: 10 },
      note: closedLoopNote(num(get(r, 'singleSign200', 'chute', 'perSecond')), num(get(r, 'singleSign200', 'chute', 'p50Ms'))),
    });
  }
  if (r.openLoop200) {
    const c = get(r, 'openLoop200', 'chute') as Record<string, number> | undefined;
    const k = get(r, 'openLoop200', 'companion') as Record<string, number> | undefined;
    figures.push({
      label: `sign-part p99 over 200 connections, open loop at ${pctOf(get(r, 'openLoop200', 'load'))} of each server's capacity (${c?.rate ?? '?'} req/s; Companion ${k?.rate ?? '?'} req/s)`,
      value: num(c?.p99Ms),
      unit: 'ms',
      better: 'lower',
      peer: { label: '@uppy/companion 6 at the same share of its capacity', value: num(k?.p99Ms) },
      target: { text: '≤ 10 ms', maxValue: 10 },
      note: `p50 ${c?.p50Ms ?? '?'} ms vs ${k?.p50Ms ?? '?'} ms; latency counted from each request's scheduled start`,
    });
  }
  return figures;
}

export const sections: SectionDef[] = [
  {
    id: 'hashing',
    title: 'Hashing in Chromium workers',
    run: async (ctx) => (await import('./hashing/bench.js')).benchHashing(ctx),
  },
  {
    id: 'upload',
    title: 'Upload, Chromium → local-r2',
    run: async (ctx) => (await import('./upload/bench.js')).benchUpload(ctx),
  },
  {
    id: 'local-r2',
    title: 'local-r2 (store) figures',
    run: async (ctx) => {
      const mod = await optionalModule('local-r2');
      const fn = mod?.benchLocalR2 as ((o: { quick: boolean; workDir: string }) => Promise<Record<string, unknown>>) | undefined;
      if (!fn) return { status: 'skipped', reason: 'test/bench/local-r2.ts (benchLocalR2) not present yet', figures: [] };
      const extra = await fn({ quick: ctx.quick, workDir: ctx.workDir });
      return { status: 'ok', figures: localR2Figures(extra), extra };
    },
  },
  {
    id: 'signer',
    title: 'Signer figures (vs @uppy/companion 6)',
    run: async (ctx) => {
      // The signer's own bench (packages/signer/bench/signer-bench.ts), collected into this report.
      const file = path.join(here, '../../packages/signer/bench/signer-bench.ts');
      if (!existsSync(file)) return { status: 'skipped', reason: 'packages/signer/bench/signer-bench.ts not present', figures: [] };
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const fn = mod.benchSigner as ((o: { quick: boolean; workDir: string }) => Promise<Record<string, unknown>>) | undefined;
      if (!fn) return { status: 'skipped', reason: 'signer-bench.ts exports no benchSigner', figures: [] };
      const extra = await fn({ quick: ctx.quick, workDir: ctx.workDir });
      return { status: 'ok', figures: signerFigures(extra), extra };
    },
  },
  {
    id: 'growth',
    title: 'Growth: 16 MiB → 4 GiB files (throughput, page heap) and 1,000 / 10,000-part sign and complete',
    run: async (ctx) => (await import('./growth/bench.js')).benchGrowth(ctx),
  },
  {
    id: 'links',
    title: 'Shaped links: Chromium → store over tc-shaped veth links with a real round trip',
    fullOnly: true,
    run: async (ctx) => (await import('./links/bench.js')).benchLinks(ctx),
  },
  {
    id: 'many-files',
    title: 'Many files on the 200 Mbit/s × 80 ms link: files per second vs stock Uppy',
    fullOnly: true,
    run: async (ctx) => (await import('./many-files/bench.js')).benchManyFiles(ctx),
  },
];

/** `pnpm bench --<flag>` runs that one section alone and merges it into the committed report. */
export const SINGLE_SECTION_FLAGS: Record<string, string> = { '--links': 'links', '--many-files': 'many-files', '--growth': 'growth', '--local-r2': 'local-r2', '--signer': 'signer' };
