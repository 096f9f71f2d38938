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
    if (s.id === 'links' && linkMatrix(s)) out.push('![link matrix](links.svg)', '', renderLinkPlot(s), '');
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
    // The link matrix has its own chart (links.svg).
    if (s.id === 'links') continue;
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
  const links = r.sections.find((s) => s.id === 'links');
  if (links && linkMatrix(links)) writeFileSync(path.join(dir, 'links.svg'), renderLinkChart(links));
}

// ---- the link matrix (section `links`): one row per link, Chute and each peer as MB/s medians.

interface LinkRow {
  title: string;
  rate: number;
  values: { client: string; label: string; value: number | null }[];
}

const LINK_PEERS: [string, string][] = [
  ['chute', 'Chute'],
  ['stock-uppy', 'stock @uppy/aws-s3'],
  ['aws', 'aws s3 cp'],
  ['curl', 'curl -T'],
];

/** The matrix from a links section's raw record, or null when it has none. */
export function linkMatrix(s: Section): LinkRow[] | null {
  const links = s.extra?.links as { id: string; mbit: number; rttMs: number; rateMBps: number }[] | undefined;
  const rates = s.extra?.ratesMBps as Record<string, number[]> | undefined;
  if (!links || !rates) return null;
  return links.map((l) => ({
    title: `${l.mbit} Mbit/s × ${l.rttMs} ms`,
    rate: l.rateMBps,
    values: LINK_PEERS.map(([client, label]) => ({ client, label, value: median(rates[`${l.id}:${client}`] ?? []) })),
  }));
}

/** A plot-style Markdown table: a bar per client scaled to the link rate (█ = 5% of it). */
export function renderLinkPlot(s: Section): string {
  const rows = linkMatrix(s) ?? [];
  const bar = (v: number | null, rate: number) => {
    if (v == null) return '—';
    const n = Math.max(0, Math.min(20, Math.round((v / rate) * 20)));
    return `\`${'█'.repeat(n)}${'·'.repeat(20 - n)}\` ${v.toFixed(1)} (${(v / rate).toFixed(2)}×)`;
  };
  const out = [
    `| link (rate) | ${LINK_PEERS.map(([, l]) => l).join(' | ')} |`,
    `| --- | ${LINK_PEERS.map(() => '---').join(' | ')} |`,
  ];
  for (const r of rows) out.push(`| ${r.title} (${r.rate.toFixed(2)} MB/s) | ${r.values.map((v) => bar(v.value, r.rate)).join(' | ')} |`);
  out.push('', 'MB/s, medians; the bar is the share of the shaped link rate (each █ = 5%), the figure in brackets the same ratio.');
  return out.join('\n');
}

/** links.svg: per link, one bar per client as a share of the link rate, with the MB/s figure. */
export function renderLinkChart(s: Section): string {
  const rows = linkMatrix(s) ?? [];
  const width = 760;
  const left = 170;
  const barW = width - left - 150;
  const rowH = 18;
  const groupH = 24 + LINK_PEERS.length * rowH + 10;
  const h = 50 + rows.length * groupH;
  const colour: Record<string, string> = { chute: '#2b6cb0', 'stock-uppy': '#999', aws: '#bbb', curl: '#ddd' };
  const xmlEsc = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    '<text x="10" y="20" font-size="14" font-weight="bold">Upload over shaped links: MB/s and share of the link rate (medians, same run)</text>',
  ];
  // The 0.9× goal line and the link rate (1.0×) frame every group.
  const x = (share: number) => left + Math.min(1.05, share) * barW;
  rows.forEach((r, g) => {
    const y0 = 40 + g * groupH;
    parts.push(`<text x="10" y="${y0 + 14}" font-weight="bold">${xmlEsc(r.title)} — link ${r.rate.toFixed(2)} MB/s</text>`);
    const top = y0 + 20;
    const bottom = top + LINK_PEERS.length * rowH;
    parts.push(
      `<line x1="${x(1).toFixed(1)}" y1="${top}" x2="${x(1).toFixed(1)}" y2="${bottom}" stroke="#000" stroke-width="1"/>`,
      `<line x1="${x(0.9).toFixed(1)}" y1="${top}" x2="${x(0.9).toFixed(1)}" y2="${bottom}" stroke="#c53030" stroke-dasharray="3,2"/>`,
    );
    r.values.forEach((v, i) => {
      const y = top + i * rowH;
      const share = v.value == null ? 0 : v.value / r.rate;
      parts.push(
        `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${xmlEsc(v.label)}</text>`,
        `<rect x="${left}" y="${y + 2}" width="${Math.max(1, x(share) - left).toFixed(1)}" height="${rowH - 5}" fill="${colour[v.client] ?? '#aaa'}"/>`,
        `<text x="${(x(1.05) + 8).toFixed(1)}" y="${y + 12}">${v.value == null ? '—' : `${v.value.toFixed(1)} MB/s (${share.toFixed(2)}×)`}</text>`,
      );
    });
  });
  parts.push(`<text x="10" y="${h - 8}" fill="#555">black line: the shaped link rate (tbf); red dashes: the 0.9× goal. Reproduce: pnpm bench --links</text>`, '</svg>');
  return `${parts.join('\n')}\n`;
}
