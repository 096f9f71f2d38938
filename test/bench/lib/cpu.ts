// CPU time per process group, read from /proc: where a run spent the machine's two cores.
// A snapshot sums utime + stime of every live process (all its threads) by group; a delta of
// two snapshots attributes the CPU spent between them. Linux only; elsewhere snapshots are empty.
import { readdirSync, readFileSync } from 'node:fs';

export type CpuSnapshot = Map<number, { group: string; ticks: number }>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Names a process by what it is in a bench run. */
export function cpuGroup(pid: number, cmdline: string, comm: string, names: Map<number, string>): string {
  const named = names.get(pid);
  if (named) return named;
  if (comm.startsWith('chromium') || cmdline.includes('chromium')) {
    const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
    const util = /--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1];
    if (type === 'utility' && util) return `chromium ${util.split('.').pop()}`;
    return `chromium ${type ?? 'browser'}`;
  }
  if (pid === process.pid) return 'bench process (proxies, static server)';
  // Kernel workers rename themselves per work item; one group keeps their deltas meaningful.
  if (comm.startsWith('kworker') || comm.startsWith('ksoftirqd')) return 'kernel workers (writeback, softirq)';
  return comm;
}

export function cpuSnapshot(names = new Map<number, string>()): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return snap;
  }
  for (const p of pids) {
    const pid = Number(p);
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // comm may contain spaces and parentheses: fields start after the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      snap.set(pid, { group: cpuGroup(pid, cmdline, comm, names), ticks });
    } catch {
      // the process ended between readdir and read
    }
  }
  return snap;
}

/** CPU milliseconds per group spent between two snapshots (processes that started in between count from zero). */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, a] of after) {
    const b = before.get(pid);
    const ticks = a.ticks - (b && b.group === a.group ? b.ticks : 0);
    if (ticks <= 0) continue;
    out.set(a.group, (out.get(a.group) ?? 0) + (ticks * 1000) / TICKS_PER_SECOND);
  }
  return out;
}

/** `fixed` plus every process of the Chromium this process launched (its tree), named by type;
 * any other Chromium on the machine is grouped apart as 'foreign chromium'. */
export function ourChromium(fixed: Map<number, string>): Map<number, string> {
  const names = new Map(fixed);
  const parent = new Map<number, number>();
  const info = new Map<number, { comm: string; cmdline: string }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
      if (comm.startsWith('chrom')) info.set(Number(d), { comm, cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // gone
    }
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 16; hops++) {
      const pp = parent.get(p);
      if (pp === process.pid) return true;
      if (pp === undefined) return false;
      p = pp;
    }
    return false;
  };
  for (const [pid, { comm, cmdline }] of info) names.set(pid, ours(pid) ? cpuGroup(pid, cmdline, comm, new Map()) : 'foreign chromium');
  return names;
}

/** Browser-side CPU: every Chromium group of a delta. */
export function sumBrowser(groups: Map<string, number>): number {
  let s = 0;
  for (const [g, v] of groups) if (g.startsWith('chromium')) s += v;
  return s;
}
