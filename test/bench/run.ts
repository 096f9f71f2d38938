// `pnpm bench [--quick]`: runs every bench section in turn and writes results.json, RESULTS.md and
// chart.svg beside this file after each section. A section that cannot run (a piece not built
// yet, a missing tool) is recorded as skipped with the reason; the run goes on.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, type Report, type Section, writeReport } from './report.js';
import { SINGLE_SECTION_FLAGS, sections } from './sections.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick') || process.env.CHUTE_BENCH_QUICK === '1';
// `--links`, `--many-files` (SINGLE_SECTION_FLAGS): that section alone, merged into the committed
// report (every other section kept as it was).
const singleFlags = Object.entries(SINGLE_SECTION_FLAGS).filter(([flag]) => process.argv.includes(flag)).map(([, id]) => id);
const linksOnly = singleFlags.length > 0;
const only = linksOnly ? singleFlags : process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');

const workDir = path.join(here, 'tmp', `run-${process.pid}`);
mkdirSync(workDir, { recursive: true });
// A --quick smoke run or a partial --only run never overwrites the committed full-run report.
// CHUTE_BENCH_OUT_DIR: experiments write their report elsewhere (e.g. test/bench/tmp/x), never over the committed one.
const outDir = process.env.CHUTE_BENCH_OUT_DIR
  ? path.resolve(process.env.CHUTE_BENCH_OUT_DIR)
  : quick
    ? path.join(here, 'tmp', 'quick')
    : only && !linksOnly
      ? path.join(here, 'tmp', 'partial')
      : here;
mkdirSync(outDir, { recursive: true });

const report: Report = {
  generatedAt: new Date().toISOString(),
  quick,
  machine: machineInfo(),
  sections: [],
};

// `--links` keeps every other section of the committed report and replaces only its own.
const previous: Report | null =
  linksOnly && !quick && existsSync(path.join(outDir, 'results.json')) ? (JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8')) as Report) : null;
if (previous) {
  report.generatedAt = previous.generatedAt;
  const at: Record<string, string> = {};
  for (const id of singleFlags) {
    const k = id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    at[`${k}RunAt`] = new Date().toISOString();
    at[`${k}LoadAvgAtStart`] = machineInfo().loadAvgAtStart as string;
  }
  report.machine = { ...previous.machine, ...at };
}
const keep = (s: Section[]) => {
  if (!previous) return s;
  const merged = previous.sections.filter((p) => !s.some((x) => x.id === p.id));
  return [...merged, ...s].sort((a, b) => sections.findIndex((d) => d.id === a.id) - sections.findIndex((d) => d.id === b.id));
};

const started = Date.now();
// 15 minutes for a full run (the issue's limit), 3 for --quick; the upload section shrinks to fit.
const deadline = started + (quick ? 170 : 14 * 60) * 1000;
for (const def of sections) {
  if (only && !only.includes(def.id)) continue;
  if (quick && def.fullOnly) continue;
  const t0 = Date.now();
  console.log(`[bench] ${def.id}: ${def.title}…`);
  let section: Section;
  try {
    section = { ...(await def.run({ quick, workDir, deadline })), id: def.id, title: def.title };
  } catch (err) {
    const reason = err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' ') : String(err);
    section = { id: def.id, title: def.title, status: 'failed', reason, figures: [] };
  }
  section.seconds = (Date.now() - t0) / 1000;
  console.log(`[bench] ${def.id}: ${section.status}${section.reason ? ` (${section.reason})` : ''} in ${section.seconds.toFixed(0)} s`);
  report.sections.push(section);
  writeReport({ ...report, sections: keep(report.sections) }, outDir);
}
if (previous) for (const id of singleFlags) report.machine[`${id.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Seconds`] = Math.round((Date.now() - started) / 1000);
else report.machine.totalSeconds = Math.round((Date.now() - started) / 1000);
writeReport({ ...report, sections: keep(report.sections) }, outDir);
if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
console.log(`[bench] done in ${Math.round((Date.now() - started) / 1000)} s → ${path.relative(process.cwd(), path.join(outDir, 'RESULTS.md'))}`);
// A section that failed fails the run (CI runs --quick to prove every section still works);
// its report is written all the same. Leftover handles (a browser that would not die) must not
// keep CI waiting.
const failed = report.sections.filter((s) => s.status === 'failed').map((s) => s.id);
if (failed.length) console.error(`[bench] failed sections: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
