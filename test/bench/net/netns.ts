// A shaped link on this machine: the store side runs in its own network namespace, joined to the
// root namespace by two veth pairs, both with addresses from 198.18.0.0/15 (RFC 2544, reserved for
// network benchmarks; used only on these interfaces):
//   - the link:    bandwidth shaped in the kernel with `tc tbf` on both ends (root → ns is the
//                  upload direction, ns → root carries the answers); the round trip is added by
//                  the userland delay proxy the store side runs (this kernel has no netem);
//   - the control: unshaped, for the bench's own calls (bucket setup, read-back checks), so they
//                  neither wait on nor disturb the link under test.
// Names carry the creating process's pid (`chute-bench-links-<pid>`, veths `cbl<pid>s/c`);
// `removeStaleNamespaces()` deletes those whose process is gone. Linux, root only.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export const NETNS_PREFIX = 'chute-bench-links-';

function sh(cmd: string, args: string[], quiet = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (quiet) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** Why the link bench cannot run here, or null when it can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces and tc need root';
  for (const tool of ['/usr/sbin/ip', '/usr/sbin/tc']) if (!existsSync(tool) && !existsSync(tool.replace('/usr/sbin', '/sbin'))) return `${tool} missing (iproute2)`;
  return null;
}

/** Kills what still runs in a namespace and deletes it (and a veth whose peer it holds). */
function deleteNamespace(name: string, veths: string[]): void {
  for (const pid of sh('ip', ['netns', 'pids', name], true).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const v of veths) sh('ip', ['link', 'del', v], true);
  sh('ip', ['netns', 'del', name], true);
}

/** Deletes namespaces (and veths) a previous bench left behind: those whose creating pid is gone. */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  const names = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (const n of names) {
    if (!n.startsWith(NETNS_PREFIX)) continue;
    const pid = Number(n.slice(NETNS_PREFIX.length));
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    deleteNamespace(n, [`cbl${pid}s`, `cbl${pid}c`]);
    removed.push(n);
  }
  // A veth whose namespace was deleted by hand keeps its root end: remove orphaned ones too.
  for (const line of sh('ip', ['-o', 'link', 'show'], true).split('\n')) {
    const m = /^\d+: (cbl(\d+)[sc])[@:]/.exec(line);
    if (m && Number(m[2]) !== process.pid && !alive(Number(m[2]))) {
      sh('ip', ['link', 'del', m[1] as string], true);
      removed.push(m[1] as string);
    }
  }
  return removed;
}

export interface SpawnedInNs {
  pid: number;
  child: ChildProcess;
  output(): string;
  /** Group 1 of every match of the ready pattern, in order. */
  matches: string[];
  peakRss(): number;
  kill(): Promise<void>;
}

export interface ShapedNamespace {
  name: string;
  /** The root end of the link and the store end (the address clients use). */
  clientIp: string;
  storeIp: string;
  /** The store end of the unshaped control pair. */
  controlIp: string;
  /** (Re)shapes both directions of the link to `rateMbit` (tbf); `null` removes the shaping. */
  shape(rateMbit: number | null): void;
  /** The qdisc lines as tc prints them (for the report). */
  describeShaping(): string;
  /** `node …args` inside the namespace; resolves when `ready` matched `readyCount` times. */
  spawnNode(args: string[], opts: { env?: Record<string, string>; ready: RegExp; readyCount?: number; timeoutMs?: number; cwd?: string }): Promise<SpawnedInNs>;
  teardown(): void;
}

function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * tbf for `rateMbit`: a bucket of ~4 ms at the rate (at least 64 KiB, so a GSO super-packet always
 * fits) and 50 ms of queue; both ends get the same rate.
 */
function tbfArgs(rateMbit: number): string[] {
  const burst = Math.max(64 * 1024, Math.ceil(((rateMbit * 1e6) / 8) * 0.004));
  return ['tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burst), 'latency', '50ms'];
}

/** Creates the namespace and both veth pairs; registers teardown on exit and on SIGINT/SIGTERM. */
export function createShapedNamespace(): ShapedNamespace {
  const why = netnsUnavailable();
  if (why) throw new Error(why);
  removeStaleNamespaces();
  const name = `${NETNS_PREFIX}${process.pid}`;
  const link = { root: `cbl${process.pid}s`, ns: `cbl${process.pid}n` };
  const ctl = { root: `cbl${process.pid}c`, ns: `cbl${process.pid}m` };
  // Two /30s inside 198.18.0.0/15, picked from the pid so concurrent runs do not collide.
  const i = process.pid % 16384;
  const base = (k: number) => `198.${18 + (i >> 13)}.${(i >> 5) & 255}.${((i & 31) << 3) + k}`;
  const clientIp = base(1);
  const storeIp = base(2);
  const ctlRoot = base(5);
  const controlIp = base(6);
  const children = new Set<ChildProcess>();
  let torn = false;
  const teardown = () => {
    if (torn) return;
    torn = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    deleteNamespace(name, [link.root, ctl.root]);
    process.off('exit', teardown);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    teardown();
    process.kill(process.pid, sig);
  };
  process.on('exit', teardown);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sh('ip', ['netns', 'add', name]);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    for (const [pair, rootIp, nsIp] of [
      [link, clientIp, storeIp],
      [ctl, ctlRoot, controlIp],
    ] as const) {
      sh('ip', ['link', 'add', pair.root, 'type', 'veth', 'peer', 'name', pair.ns]);
      sh('ip', ['link', 'set', pair.ns, 'netns', name]);
      sh('ip', ['addr', 'add', `${rootIp}/30`, 'dev', pair.root]);
      sh('ip', ['-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', pair.ns]);
      sh('ip', ['link', 'set', pair.root, 'up']);
      sh('ip', ['-n', name, 'link', 'set', pair.ns, 'up']);
    }
  } catch (err) {
    teardown();
    throw err;
  }

  const shape = (rateMbit: number | null) => {
    if (rateMbit == null) {
      sh('tc', ['qdisc', 'del', 'dev', link.root, 'root'], true);
      sh('tc', ['-n', name, 'qdisc', 'del', 'dev', link.ns, 'root'], true);
      return;
    }
    sh('tc', ['qdisc', 'replace', 'dev', link.root, 'root', ...tbfArgs(rateMbit)]);
    sh('tc', ['-n', name, 'qdisc', 'replace', 'dev', link.ns, 'root', ...tbfArgs(rateMbit)]);
  };

  const spawnNode: ShapedNamespace['spawnNode'] = (args, opts) => {
    // `ip netns exec` execs the command in place: the child's pid is node's own.
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, ...opts.env },
      // stdin stays open: a child that watches it (the delay proxy) exits when the bench dies.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let lastPeak = 0;
    const matches: string[] = [];
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`not ready in time: ${args.join(' ').slice(0, 200)}\n${out.slice(-1500)}`));
      }, opts.timeoutMs ?? 30_000);
      const re = new RegExp(opts.ready.source, `${opts.ready.flags.replace('g', '')}g`);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.length > 200_000) out = out.slice(-100_000);
        if (matches.length >= (opts.readyCount ?? 1)) return;
        matches.length = 0;
        for (const m of out.matchAll(re)) matches.push(m[1] ?? '');
        if (matches.length >= (opts.readyCount ?? 1)) {
          clearTimeout(timer);
          resolve({
            pid: child.pid ?? -1,
            child,
            output: () => out,
            matches,
            peakRss: () => {
              if (child.exitCode === null) lastPeak = Math.max(lastPeak, peakRssOf(child.pid ?? -1));
              return lastPeak;
            },
            kill: async () => {
              if (child.exitCode !== null || child.signalCode !== null) return;
              lastPeak = Math.max(lastPeak, peakRssOf(child.pid ?? -1));
              child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 5000);
              await exited;
              clearTimeout(t);
              children.delete(child);
            },
          });
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before it was ready: ${args.join(' ').slice(0, 200)}\n${out.slice(-1500)}`));
      });
    });
  };

  return {
    name,
    clientIp,
    storeIp,
    controlIp,
    shape,
    describeShaping: () =>
      [sh('tc', ['qdisc', 'show', 'dev', link.root], true), sh('tc', ['-n', name, 'qdisc', 'show', 'dev', link.ns], true)]
        .map((s) => s.trim())
        .join(' / '),
    spawnNode,
    teardown,
  };
}
