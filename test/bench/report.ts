// The bench report: results.json (machine-readable), RESULTS.md (each figure next to its peer and
// the ratio) and chart.svg (throughput bars), all written after every section so a run cut short
// still leaves what it measured.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Figure {
  label: string;
  value: number | null;
  unit: string;
  /** Which direction is better; ratios are always "times better than the peer". */
  better: 'higher' | 'lower';
  peer?: { label: string; value: number | null };
  /** `min` applies to the ratio against the peer; `maxValue` to the value itself. */
  target?: { text: string; min?: number; maxValue?: number };
  note?: string;
}

export interface Section {
  id: string;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  conditions?: string;
  figures: Figure[];
  /** Extra tables shown under the figures (e.g. where the CPU went). */
  tables?: { title: string; note?: string; columns: string[]; rows: (string | number)[][] }[];
  /** Raw figures a section wants kept (e.g. the local-r2 module's own record). */
  extra?: Record<string, unknown>;
  seconds?: number;
}

export interface Report {
  generatedAt: string;
  quick: boolean;
  machine: Record<string, string | number>;
  sections: Section[];
}

/** ours/peer when higher is better, peer/ours when lower is better. */
export function ratio(f: Figure): number | null {
  const a = f.value;
  const b = f.peer?.value;
  if (a == null || b == null || a === 0 || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  return f.better === 'higher' ? a / b : b / a;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function machineInfo(extra: Record<string, string | number> = {}): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    ...extra,
  };
}

const fmt = (v: number | null | undefined, unit = ''): string => {
  if (v == null || !Number.isFinite(v)) return '—';
  const digits = Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

const esc = (s: string) => s.replace(/\|/g, '\\|');

function targetMark(f: Figure, rt: number | null): string {
  const t = f.target;
  if (!t) return '';
  if (t.maxValue !== undefined) return f.value == null ? '' : f.value <= t.maxValue ? '✅' : '❌';
  if (t.min !== undefined) return rt == null ? '' : rt >= t.min ? '✅' : '❌';
  return '';
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push('# Chute benchmark results', '');
  out.push(
    `Generated ${r.generatedAt} by \`pnpm bench${r.quick ? ' --quick' : ''}\`${r.quick ? ' (quick smoke run: small sizes, figures are indicative only)' : ''}.`,
    '',
    'Every figure is measured in the same run as its peer; **ratio** is "times better than the peer"',
    '(ours/peer when higher is better, peer/ours when lower is better). Timings are medians; the',
    'machine is shared, so compare ratios, not absolute numbers.',
    '',
    '![throughput chart](chart.svg)',
    '',
    '| machine | |',
    '| --- | --- |',
  );
  for (const [k, v] of Object.entries(r.machine)) out.push(`| ${k} | ${esc(String(v))} |`);
  out.push('');
  for (const s of r.sections) {
    out.push(`## ${s.title}`, '');
    if (s.status !== 'ok') out.push(`**${s.status}**: ${s.reason ?? ''}`, '');
    if (s.conditions) out.push(s.conditions, '');
    if (s.figures.length > 0) {
      out.push('| figure | value | peer | peer value | ratio | target |', '| --- | --- | --- | --- | --- | --- |');
      for (const f of s.figures) {
        const rt = ratio(f);
        const tgt = f.target ? `${f.target.text} ${targetMark(f, rt)}` : '';
        out.push(
          `| ${esc(f.label)}${f.note ? ` (${esc(f.note)})` : ''} | ${fmt(f.value, f.unit)} | ${esc(f.peer?.label ?? '')} | ${f.peer ? fmt(f.peer.value, f.unit) : ''} | ${rt == null ? (f.peer ? '—' : '') : `${rt.toFixed(2)}×`} | ${esc(tgt)} |`,
        );
      }
      out.push('');
    }
    for (const t of s.tables ?? []) {
      out.push(`**${esc(t.title)}**`, '');
      if (t.note) out.push(t.note, '');
      out.push(`| ${t.columns.map(esc).join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`);
      for (const row of t.rows) out.push(`| ${row.map((c) => esc(String(c))).join(' | ')} |`);
      out.push('');
    }
    if (s.extra && Object.keys(s.extra).length > 0) {
      out.push('<details><summary>raw figures</summary>', '', '```json', JSON.stringify(s.extra, null, 2), '```', '', '</details>', '');
    }
    if (s.seconds != null) out.push(`_section took ${s.seconds.toFixed(0)} s_`, '');
  }
  return `${out.join('\n')}\n`;
}

/** Horizontal bars for every MB/s figure, grouped by section: ours in blue, each peer in grey. */
export function renderChart(r: Report): string {
  type Row = { label: string; value?: number; kind: 'head' | 'ours' | 'peer' };
  const rows: Row[] = [];
  for (const s of r.sections) {
    const figs = s.figures.filter((f) => f.unit === 'MB/s' && f.value != null);
    if (figs.length === 0) continue;
    rows.push({ label: s.title, kind: 'head' });
    const drawn = new Set<string>();
    for (const f of figs) {
      // A figure compared with several peers is drawn once, followed by each peer.
      const id = `${f.label}|${f.value}`;
      if (!drawn.has(id)) rows.push({ label: f.label, value: f.value as number, kind: 'ours' });
      drawn.add(id);
      if (f.peer?.value != null) rows.push({ label: `vs ${f.peer.label}`, value: f.peer.value, kind: 'peer' });
    }
  }
  const max = Math.max(1, ...rows.map((x) => x.value ?? 0));
  const left = 470;
  const width = 960;
  const barW = width - left - 60;
  const rowH = 19;
  const h = 40 + rows.length * rowH;
  const xmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Throughput in MB/s: Chute (blue) and its peers in the same run (grey)${r.quick ? ' — quick run' : ''}</text>`,
  ];
  rows.forEach((row, i) => {
    const y = 32 + i * rowH;
    if (row.kind === 'head') {
      parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${xmlEsc(row.label)}</text>`);
      return;
    }
    const w = Math.max(1, ((row.value ?? 0) / max) * barW);
    parts.push(
      `<text x="${left - 6}" y="${y + 13}" text-anchor="end" fill="${row.kind === 'peer' ? '#555' : '#000'}">${xmlEsc(clip(row.label, 78))}</text>`,
      `<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${row.kind === 'peer' ? '#aaa' : '#2b6cb0'}"/>`,
      `<text x="${(left + w + 4).toFixed(1)}" y="${y + 13}">${(row.value ?? 0).toFixed(0)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function writeReport(r: Report, dir: string): void {
  writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(path.join(dir, 'RESULTS.md'), renderMarkdown(r));
  writeFileSync(path.join(dir, 'chart.svg'), renderChart(r));
}
