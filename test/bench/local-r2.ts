// local-r2 store figures: PUT ingest vs raw disk (both fsynced), server peak RSS while ingesting,
// and ListObjectsV2 page latency over a large bucket. Standalone: npx tsx test/bench/local-r2.ts [--quick]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startLocalR2Process } from '../reliability/lib/services.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.join(here, '../../packages/local-r2');
const cli = path.join(pkgDir, 'dist/cli.js');
const MiB = 1024 * 1024;
const CHUNK = 16 * MiB;

async function status(pid: number): Promise<{ rss: number; hwm: number }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The same bytes for disk and server: one random chunk repeated (content does not change the cost). */
function* chunks(total: number, chunk: Buffer) {
  for (let sent = 0; sent < total; sent += chunk.length) yield sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent);
}

async function diskWrite(file: string, total: number, chunk: Buffer): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const ws = createWriteStream(file, { flush: true, highWaterMark: MiB });
    ws.on('error', reject);
    ws.on('finish', resolve);
    (async () => {
      for (const c of chunks(total, chunk)) if (!ws.write(c)) await new Promise<void>((r) => ws.once('drain', () => r()));
      ws.end();
    })().catch(reject);
  });
  return (performance.now() - t0) / 1000;
}

async function serverPut(url: string, total: number, chunk: Buffer): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': total } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT → ${res.statusCode}`))));
    });
    req.on('error', reject);
    (async () => {
      for (const c of chunks(total, chunk)) if (!req.write(c)) await new Promise<void>((r) => req.once('drain', () => r()));
      req.end();
    })().catch(reject);
  });
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function benchLocalR2(opts: { quick: boolean; workDir: string }): Promise<Record<string, unknown>> {
  const total = opts.quick ? 64 * MiB : 1024 * MiB;
  const keys = opts.quick ? 10_000 : 100_000;
  const putRounds = opts.quick ? 1 : 3;
  const dir = path.join(opts.workDir, 'local-r2');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (!existsSync(cli)) execFileSync('pnpm', ['--filter', '@chute/local-r2', 'build'], { cwd: pkgDir, stdio: 'ignore' });
  // Imported after the build check: without the `source` condition the package resolves to dist/.
  const { DEFAULT_CREDENTIALS } = await import('@chute/local-r2');
  // The built CLI, as users run it (the build check above makes it the entry).
  const r2 = await startLocalR2Process(path.join(dir, 'data'), 'bench');
  const s3 = new S3Client({
    endpoint: r2.url,
    region: 'auto',
    forcePathStyle: true,
    credentials: DEFAULT_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const chunk = randomBytes(CHUNK);
    // Raw disk, then the same bytes through a presigned PUT (the browser's data path), in turns:
    // on this shared VM the disk alone swings several-fold from one run to the next, so one
    // sample of each decides nothing. Medians of the rounds, and each round's figures.
    const pid = r2.pid;
    let rssMax = 0;
    const diskRounds: number[] = [];
    const serverRounds: number[] = [];
    for (let round = 0; round < putRounds; round++) {
      diskRounds.push(await diskWrite(path.join(dir, 'raw.bin'), total, chunk));
      await rm(path.join(dir, 'raw.bin'));
      const sampler = setInterval(() => {
        status(pid).then((s) => (rssMax = Math.max(rssMax, s.rss)), () => {});
      }, 25);
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'bench', Key: 'big.bin' }), { expiresIn: 3600 });
      serverRounds.push(await serverPut(url, total, chunk));
      clearInterval(sampler);
    }
    const diskSeconds = median(diskRounds);
    const serverSeconds = median(serverRounds);
    const { hwm } = await status(pid);

    // Six parts at once, as the browser sends them (one per HTTP/1.1 connection).
    const each = total / 8;
    let rssParallel = 0;
    const sampler2 = setInterval(() => {
      status(pid).then((s) => (rssParallel = Math.max(rssParallel, s.rss)), () => {});
    }, 25);
    const urls = await Promise.all(
      Array.from({ length: 6 }, (_, i) => getSignedUrl(s3, new PutObjectCommand({ Bucket: 'bench', Key: `part-${i}` }), { expiresIn: 3600 })),
    );
    const p0 = performance.now();
    await Promise.all(urls.map((u) => serverPut(u, each, chunk)));
    const parallelSeconds = (performance.now() - p0) / 1000;
    clearInterval(sampler2);

    // Fill the bucket through the server: empty PUTs on presigned URLs, 64 in flight.
    const fillStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < keys) {
          const key = `photos/${String(next++).padStart(6, '0')}.jpg`;
          const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'bench', Key: key }), { expiresIn: 3600 });
          const res = await fetch(url, { method: 'PUT', body: '' });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`fill PUT → ${res.status}`);
        }
      }),
    );
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const listUrl = (startAfter?: string) =>
      getSignedUrl(s3, new ListObjectsV2Command({ Bucket: 'bench', MaxKeys: 1000, ...(startAfter ? { StartAfter: startAfter } : {}) }));
    const runs = async (u: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) await (await fetch(u)).text(); // warm-up (JIT, page cache): not timed
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        const res = await fetch(u);
        const text = await res.text();
        ms.push(performance.now() - t0);
        if (!res.ok || (text.match(/<Key>/g)?.length ?? 0) !== 1000) throw new Error('list page was not 1000 keys');
      }
      return ms;
    };
    const firstPage = await runs(await listUrl());
    const middlePage = await runs(await listUrl(`photos/${String(Math.floor(keys / 2)).padStart(6, '0')}.jpg`));
    const delimited = await (async () => {
      const u = await getSignedUrl(s3, new ListObjectsV2Command({ Bucket: 'bench', Delimiter: '/', MaxKeys: 1000 }));
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) await (await fetch(u)).text();
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        await (await fetch(u)).text();
        ms.push(performance.now() - t0);
      }
      return ms;
    })();

    const mb = total / 1e6;
    return {
      put: {
        bytes: total,
        diskSeconds: +diskSeconds.toFixed(3),
        diskMBps: +(mb / diskSeconds).toFixed(1),
        serverSeconds: +serverSeconds.toFixed(3),
        serverMBps: +(mb / serverSeconds).toFixed(1),
        ratioVsDisk: +(diskSeconds / serverSeconds).toFixed(2),
        target: '≥ 0.8× disk',
        rounds: diskRounds.map((d, i) => ({ diskMBps: +(mb / d).toFixed(1), serverMBps: +(mb / (serverRounds[i] as number)).toFixed(1) })),
      },
      parallelPut: {
        streams: 6,
        bytesEach: each,
        seconds: +parallelSeconds.toFixed(3),
        aggregateMBps: +((6 * each) / 1e6 / parallelSeconds).toFixed(1),
        maxRssMB: +(rssParallel / MiB).toFixed(1),
      },
      rss: {
        maxDuringPutMB: +(rssMax / MiB).toFixed(1),
        peakHwmMB: +(hwm / MiB).toFixed(1),
        target: '< 150 MB',
      },
      list: {
        keys,
        fillSeconds: +fillSeconds.toFixed(1),
        smallPutsPerSecond: Math.round(keys / fillSeconds),
        firstPageMedianMs: +median(firstPage).toFixed(2),
        middlePageMedianMs: +median(middlePage).toFixed(2),
        delimiterPageMedianMs: +median(delimited).toFixed(2),
        target: '< 100 ms per 1000-key page',
      },
    };
  } finally {
    s3.destroy();
    await r2.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const workDir = path.join(here, 'tmp', `local-r2-${process.pid}`);
  benchLocalR2({ quick, workDir })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .finally(() => rm(workDir, { recursive: true, force: true }));
}
