import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, MiB } from './helpers.js';
import { sdk } from './sdk.js';

const { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, ListPartsCommand } = sdk;

const pkg = fileURLToPath(new URL('..', import.meta.url));
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Starts the built CLI as a real process and waits for its "listening" line. */
function startCli(dataDir: string): Promise<{ proc: ChildProcess; endpoint: string }> {
  const proc = spawn(process.execPath, [join(pkg, 'dist/cli.js'), '--port', '0', '--data-dir', dataDir, '--bucket', 'crash'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /local-r2 listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proc, endpoint: m[1] as string });
    });
    proc.once('exit', (code) => reject(new Error(`local-r2 exited early (${code}): ${out}`)));
  });
}

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/** Builds dist/ only when a source file is newer (`pnpm test` has built it already; rebuilding
 * while other suites spawn dist/cli.js could hand them a half-written file). */
async function ensureBuilt() {
  const newest = async (d: string): Promise<number> => {
    let t = 0;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) t = Math.max(t, await newest(p));
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) t = Math.max(t, (await stat(p)).mtimeMs);
    }
    return t;
  };
  const built = await stat(join(pkg, 'dist/cli.js')).then((s) => s.mtimeMs, () => 0);
  if (built < (await newest(join(pkg, 'src')))) execFileSync('pnpm', ['--filter', '@chute/local-r2', 'build'], { cwd: pkg, stdio: 'ignore' });
}

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'local-r2-crash-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kill -9 during concurrent writes', () => {
  it('keeps every acknowledged object intact and lists nothing torn after restart', async () => {
    const first = await startCli(dir);
    const s3 = client(first.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    const acked = new Map<string, string>(); // key → md5 of the acknowledged body
    const sent = new Map<string, Set<string>>(); // key → md5 of every body ever sent
    // Worker w overwrites shared/w in sequence; its last acknowledged version, or the one in flight, must survive.
    const lastAcked = new Map<string, number>();
    const versions = new Map<string, string[]>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const shared = i % 3 === 0;
        const key = shared ? `shared/${w}` : `w${w}/${i}`;
        const body = randomBytes(1024 + Math.floor(Math.random() * 2 * MiB));
        const sum = md5(body);
        if (!sent.has(key)) sent.set(key, new Set());
        sent.get(key)?.add(sum);
        if (shared) versions.set(key, [...(versions.get(key) ?? []), sum]);
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body }));
          acked.set(key, sum);
          if (shared) lastAcked.set(key, (versions.get(key)?.length ?? 1) - 1);
        } catch {
          return; // the server died under us
        }
      }
    };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: 'open-upload' }));
    const part = randomBytes(64 * 1024);
    await s3.send(new UploadPartCommand({ Bucket: 'crash', Key: 'open-upload', UploadId, PartNumber: 1, Body: part }));
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    while (acked.size < 40) await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited(first.proc);
    s3.destroy();

    const second = await startCli(dir);
    const s3b = client(second.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      for (const [key, sum] of acked) {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        const bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
        const actual = md5(bytes);
        if (key.startsWith('shared/')) {
          // Old-or-new, never torn: the last acknowledged version or a later (in-flight) one.
          const vs = versions.get(key) ?? [];
          expect(vs.indexOf(actual)).toBeGreaterThanOrEqual(lastAcked.get(key) ?? 0);
        } else expect(actual).toBe(sum);
      }
      let listed = 0;
      let token: string | undefined;
      do {
        const page = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash', ...(token ? { ContinuationToken: token } : {}) }));
        for (const o of page.Contents ?? []) {
          listed++;
          const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: o.Key }));
          const bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
          expect(bytes.length).toBe(o.Size);
          expect(`"${md5(bytes)}"`).toBe(o.ETag);
          expect(sent.get(o.Key as string)?.has(md5(bytes))).toBe(true);
        }
        token = page.NextContinuationToken;
      } while (token);
      expect(listed).toBeGreaterThanOrEqual(acked.size);
      const parts = await s3b.send(new ListPartsCommand({ Bucket: 'crash', Key: 'open-upload', UploadId }));
      expect(parts.Parts?.map((p) => p.ETag)).toEqual([`"${md5(part)}"`]);
      // Start-up removed every data file left by interrupted writes: one file per object, one per part.
      let files = 0;
      for (const shard of await readdir(join(dir, 'blobs'))) files += (await readdir(join(dir, 'blobs', shard))).length;
      expect(files).toBe(listed + 1);
    } finally {
      s3b.destroy();
      second.proc.kill('SIGTERM');
      await exited(second.proc);
    }
  }, 90_000);
});
