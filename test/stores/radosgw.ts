// A throwaway single-node Ceph cluster (one monitor, one memstore OSD, radosgw) on loopback, so
// Chute can be tested against an S3 implementation nobody on the team wrote. No systemd, no cephx:
// everything lives in a temp dir, on free ports, and dies with the process that started it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { cephConf } from './ceph-conf.js';

const run = promisify(execFile);

export const INSTALL_HINT = 'apt-get install -y ceph-mon ceph-osd radosgw ceph-common';
const BINARIES = ['monmaptool', 'ceph-mon', 'ceph', 'ceph-osd', 'radosgw', 'radosgw-admin'];

export interface Radosgw {
  endpoint: string;
  /** The zonegroup name, which is what radosgw expects in the SigV4 scope. */
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  /** e.g. "16.2.15". */
  version: string;
  dir: string;
  /** Milliseconds from the first command to a bucket that answers. */
  startMs: number;
  close(): Promise<void>;
}

export interface RadosgwOptions {
  bucket?: string;
  /** Keep the temp dir (logs) after close(), for debugging. */
  keepDir?: boolean;
}

/** Throws with the install command when a Ceph binary is missing. */
export function findCephBinaries(): Record<string, string> {
  const dirs = (process.env.PATH ?? '').split(':').concat('/usr/bin', '/usr/sbin');
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const bin of BINARIES) {
    const hit = dirs.map((d) => path.join(d, bin)).find((p) => existsSync(p));
    if (hit) found[bin] = hit;
    else missing.push(bin);
  }
  if (missing.length) {
    throw new Error(`radosgw: missing Ceph binaries (${missing.join(', ')}); install them with: ${INSTALL_HINT}`);
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

// The daemon runs under a shell that kills it when our end of its stdin closes, which the kernel
// does even when this process is SIGKILLed; exit handlers alone would leak a cluster per crash.
const WATCHDOG = 'exec 3<&0; "$@" </dev/null & p=$!; { read -r _ <&3; kill -9 "$p"; } 2>/dev/null & w=$!; wait "$p"; rc=$?; kill "$w" 2>/dev/null; exit $rc';

// Pacific with auth none: the OSD's first monitor command can beat the monmap (so it carries a zero
// fsid) and the OSD exits at once; a restart gets past it. cephx would hide the race, at a cost.
const WRONG_FSID = /mon_cmd_maybe_osd_create fail: 'wrong fsid'/;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function logTail(dir: string, lines = 25): string {
  const logDir = path.join(dir, 'log');
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir)
    .map((f) => {
      const text = readFileSync(path.join(logDir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      return `--- ${f} (last ${lines} lines)\n${text}`;
    })
    .join('\n');
}

export async function startRadosgw(opts: RadosgwOptions = {}): Promise<Radosgw> {
  const bins = findCephBinaries();
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'chute-radosgw-'));
  for (const sub of ['mon', 'osd', 'log', 'run', 'rgw']) mkdirSync(path.join(dir, sub));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = path.join(dir, 'ceph.conf');
  // OSD messengers need a port range; a random window below the ephemeral range rarely collides,
  // and a busy port inside it is simply skipped.
  const osdPortMin = 20_000 + Math.floor(Math.random() * 100) * 100;
  writeFileSync(conf, cephConf({ dir, fsid, monPort, rgwPort, osdPorts: [osdPortMin, osdPortMin + 99] }));
  const c = ['-c', conf];

  const children: ChildProcess[] = [];
  let closing = false;
  let failed: string | undefined;
  const daemon = (name: string, args: string[], retries = 0): void => {
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', bins[name] as string, ...c, '-f', ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (!closing && retries > 0 && WRONG_FSID.test(stderr)) return daemon(name, args, retries - 1);
      if (!closing) failed ??= `${name} exited (${signal ?? code}) ${stderr.trim()}`;
    });
    children.push(child);
    live.add(child);
    killAllOnExit();
  };
  const cmd = async (name: string, args: string[]) => {
    const { stdout } = await run(bins[name] as string, [...c, ...args], { timeout: 30_000 });
    return stdout.trim();
  };

  const close = async () => {
    closing = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.stdin?.end(); // the watchdog SIGKILLs the daemon: memstore has nothing to flush
          }),
      ),
    );
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    await cmd('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, path.join(dir, 'monmap')]);
    await cmd('ceph-mon', ['-i', 'a', '--mkfs', '--monmap', path.join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    const osdId = await cmd('ceph', ['--connect-timeout', '20', 'osd', 'new', osdUuid]);
    await cmd('ceph-osd', ['-i', osdId, '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', osdId], 3);
    // radosgw started before the OSD is up sometimes stalls ~5 s on its first write.
    await waitForLog(path.join(dir, 'log', `osd.${osdId}.log`), /state: booting -> active/, () => failed);
    daemon('radosgw', ['-n', 'client.rgw']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForHttp(endpoint, () => failed);

    const credentials = { accessKeyId: `chute${fsid.slice(0, 8)}`, secretAccessKey: randomUUID().replaceAll('-', '') };
    await cmd('radosgw-admin', [
      ...['user', 'create', '--uid=chute', '--display-name=chute'],
      `--access-key=${credentials.accessKeyId}`,
      `--secret=${credentials.secretAccessKey}`,
    ]);
    const region = 'default';
    const bucket = opts.bucket ?? 'chute';
    const s3 = s3Client({ endpoint, region, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    const version = (await cmd('ceph-mon', ['--version'])).match(/ceph version (\S+)/)?.[1] ?? 'unknown';
    return { endpoint, region, credentials, bucket, version, dir, startMs: performance.now() - t0, close };
  } catch (err) {
    const tail = logTail(dir);
    await close().catch(() => {});
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`radosgw did not start: ${why}\n${tail}`);
  }
}

async function waitForLog(file: string, line: RegExp, failed: () => string | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(file) && line.test(readFileSync(file, 'utf8')))) {
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`${path.basename(file)} did not log ${line} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForHttp(url: string, failed: () => string | undefined, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An S3 client configured the way Chute's signer configures one (no default checksums). */
export function s3Client(gw: Pick<Radosgw, 'endpoint' | 'region' | 'credentials'>): S3Client {
  return new S3Client({
    endpoint: gw.endpoint,
    region: gw.region,
    credentials: gw.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
