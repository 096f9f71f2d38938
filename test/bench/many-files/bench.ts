// Many-files bench (`pnpm bench --many-files`): a folder's worth of files dropped at once, over the
// shaped 200 Mbit/s × 80 ms link of the link bench (net/link-stack.ts: network namespace, tc tbf on
// a veth pair, the userland delay proxy in front of the store and the signer), once over plain
// HTTP/1.1 and once over HTTPS + HTTP/2 as R2 serves it. Peers in
// the same run: Chute as shipped (one engine, every file added at once) and stock @uppy/aws-s3
// 6.3.1 with its defaults (its default `limit` of 6). Two sets: 500 × 256 KiB and 50 × 20 MiB.
// Every object is checked in the store afterwards (count, sizes) and a sample read back.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type Browser, launchChromium } from '../lib/browser.js';
import { cpuDelta, cpuSnapshot, ourChromium, sumBrowser } from '../lib/cpu.js';
import { MiB, makeRandomFile } from '../lib/files.js';
import { BENCH_BUCKET, BENCH_TOKEN, type Endpoints, type HttpVersion, PICK_MS, startLinkStack } from '../net/link-stack.js';
import { netnsUnavailable } from '../net/netns.js';
import { type Figure, median, type Section } from '../report.js';
import type { BenchContext } from '../sections.js';
import type { ManyResult } from '../upload/page/many-common.js';

const BUCKET = BENCH_BUCKET;

export const MANY_FILES_COMMAND = 'pnpm bench --many-files';
const LINK = { mbit: 200, rttMs: 80 };
const linkMBps = (LINK.mbit * 1e6) / 8 / 1e6;

export interface FileSet {
  id: string;
  count: number;
  size: number;
}
export const FILE_SETS: FileSet[] = [
  { id: '500x256KiB', count: 500, size: 256 * 1024 },
  { id: '50x20MiB', count: 50, size: 20 * MiB },
];

type Client = 'chute' | 'stock-uppy';
const CLIENTS: Client[] = ['chute', 'stock-uppy'];
const LABEL: Record<Client, string> = {
  chute: 'Chute (as shipped, every file added to one engine at once)',
  'stock-uppy': 'stock @uppy/aws-s3 6.3.1 (defaults: limit 6)',
};
const VERSIONS: HttpVersion[] = ['http/1.1', 'h2'];
const VERSION_LABEL: Record<HttpVersion, string> = { 'http/1.1': 'HTTP/1.1', h2: 'HTTPS + HTTP/2' };
const PAGE: Record<Client, string> = { chute: 'many-chute', 'stock-uppy': 'many-uppy' };
const setTitle = (s: FileSet) => `${s.count} × ${s.size >= MiB ? `${s.size / MiB} MiB` : `${s.size / 1024} KiB`}`;

export async function benchManyFiles(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  const why = netnsUnavailable();
  if (why) return { status: 'skipped', reason: why, figures: [] };
  const reps = Number(process.env.CHUTE_BENCH_MANY_REPS ?? process.env.CHUTE_BENCH_REPS ?? 3);
  const onlySets = process.env.CHUTE_BENCH_MANY_SETS?.split(',');
  const sets = FILE_SETS.filter((s) => !onlySets || onlySets.includes(s.id));
  const clientsEnv = process.env.CHUTE_BENCH_CLIENTS?.split(',');
  const clients = CLIENTS.filter((c) => !clientsEnv || clientsEnv.includes(c));
  const versionsEnv = process.env.CHUTE_BENCH_MANY_HTTP?.split(',');
  const versions = VERSIONS.filter((v) => !versionsEnv || versionsEnv.includes(v));
  // Experiments only: engine options for Chute (the report says when any were set).
  const engineJson = process.env.CHUTE_BENCH_ENGINE_JSON ? (JSON.parse(process.env.CHUTE_BENCH_ENGINE_JSON) as Record<string, unknown>) : undefined;
  const knobs = process.env.CHUTE_BENCH_PAGE_KNOBS ? (JSON.parse(process.env.CHUTE_BENCH_PAGE_KNOBS) as Record<string, unknown>) : undefined;
  const started = Date.now();
  const log = (s: string) => console.log(`[bench] many-files: ${s}`);
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const errors: string[] = [];
  try {
    const stack = await startLinkStack({ workDir: ctx.workDir, pages: Object.values(PAGE), h2: versions.includes('h2') });
    cleanup.push(() => stack.close());
    const { ns, s3, web, pages } = stack;
    ns.shape(LINK.mbit);
    const proxy = await stack.startDelayProxy(LINK.rttMs);
    cleanup.push(() => proxy.kill());
    const browser: Browser = await launchChromium(stack.chromiumArgs);
    cleanup.push(() => browser.close());

    const rates = new Map<string, { filesPerS: number; MBps: number }[]>(); // `${version}|${set}:${client}`
    // CPU ms per file by process group: browser-side (every process of this bench's Chromium) and the stack's.
    const cpu = new Map<string, Record<string, number>[]>();
    const fixed = new Map<number, string>([
      [stack.r2.pid, 'local-r2'],
      ...stack.signers.map((p, i): [number, string] => [p.pid, i === 0 ? 'signer (HTTP/1.1)' : 'signer (HTTP/2)']),
      ...stack.helpers.map((p): [number, string] => [p.pid, 'HTTPS edge']),
      [proxy.pid, 'delay proxy'],
    ]);
    const names = () => ourChromium(fixed);
    const protocols = new Map<string, Record<string, number>>();
    const details = new Map<string, unknown>();
    for (const set of sets) {
      const dir = path.join(ctx.workDir, `many-${set.id}`);
      mkdirSync(dir, { recursive: true });
      const files = Array.from({ length: set.count }, (_, i) => makeRandomFile(path.join(dir, `f${String(i).padStart(4, '0')}.bin`), set.size));
      const md5s = new Map(files.map((f) => [path.basename(f), createHash('md5').update(readFileSync(f)).digest('hex')]));
      for (const version of versions) {
        const { signerUrl } = stack.endpoints[version] as Endpoints;
        const optsFor = (client: Client) =>
          client === 'chute' ? { signerUrl, token: BENCH_TOKEN, pickMs: PICK_MS, ...(engineJson ? { engine: engineJson } : {}), ...(knobs ? { knobs } : {}) } : { signerUrl, token: BENCH_TOKEN, pickMs: PICK_MS };
        // One uncounted warm-up per client on a tenth of the set: the first run after start-up
        // met cold servers (JIT, TLS) and ran ~30% slower than the next, whoever went first.
        for (const client of clients) {
          const opts = optsFor(client);
          try {
            await runPage(browser, `${web.url}/${PAGE[client]}.html`, files.slice(0, Math.max(2, Math.round(set.count / 10))), opts, () => {}, () => {});
          } catch (err) {
            log(`${version} ${set.id} ${client} warm-up failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
          } finally {
            await emptyBucket(s3);
          }
        }
        for (let rep = 0; rep < reps; rep++) {
          const order = clients.map((_, i) => clients[(i + rep) % clients.length] as Client);
          for (const client of order) {
            const k = `${version}|${set.id}:${client}`;
            try {
              if (!pages.includes(PAGE[client])) throw new Error(`${PAGE[client]} page missing`);
              const opts = optsFor(client);
              let before = cpuSnapshot(names());
              let after = before;
              const r = await runPage(
                browser,
                `${web.url}/${PAGE[client]}.html`,
                files,
                opts,
                () => {
                  before = cpuSnapshot(names());
                },
                () => {
                  after = cpuSnapshot(names());
                },
              );
              const groups = cpuDelta(before, after);
              const chromiumGroups = process.env.CHUTE_BENCH_VERBOSE === '1' ? [...groups].filter(([g]) => g.startsWith('chromium')) : [];
              const perFile: Record<string, number> = {
                browser: sumBrowser(groups) / set.count,
                ...Object.fromEntries(chromiumGroups.map(([g, v]) => [g, v / set.count])),
                ...Object.fromEntries([...fixed.values()].map((g) => [g, (groups.get(g) ?? 0) / set.count])),
                // Everything that ran on the machine meanwhile, in cores (2 = both busy): is the run CPU-bound?
                'machine cores busy': [...groups.values()].reduce((a, v) => a + v, 0) / r.ms,
              };
              cpu.set(k, [...(cpu.get(k) ?? []), perFile]);
              await verifyStored(s3, set, md5s, rep === 0);
              const filesPerS = set.count / (r.ms / 1000);
              const MBps = (set.count * set.size) / 1e6 / (r.ms / 1000);
              rates.set(k, [...(rates.get(k) ?? []), { filesPerS, MBps }]);
              protocols.set(k, r.protocols);
              if (r.detail) details.set(k, r.detail);
              log(`${version} ${set.id} rep ${rep + 1}/${reps} ${client}: ${filesPerS.toFixed(1)} files/s, ${MBps.toFixed(2)} MB/s (${(MBps / linkMBps).toFixed(2)}× link) in ${(r.ms / 1000).toFixed(1)} s, CPU ms/file ${Object.entries(perFile).map(([g, v]) => `${g} ${v.toFixed(1)}`).join(', ')} ${JSON.stringify(r.requests ?? r.protocols)}${r.detail ? ` ${JSON.stringify(r.detail)}` : ''}`);
            } catch (err) {
              errors.push(`${version} ${set.id}/${client}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
              log(`${version} ${set.id} ${client} failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            } finally {
              await emptyBucket(s3);
            }
          }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
    ns.shape(null);

    const med = (k: string, f: 'filesPerS' | 'MBps') => median((rates.get(k) ?? []).map((x) => x[f]));
    const figures: Figure[] = [];
    const rows: (string | number)[][] = [];
    const x = (a: number | null, b: number | null) => (a == null || b == null || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
    for (const version of versions) {
      for (const set of sets) {
        const key = (c: Client) => `${version}|${set.id}:${c}`;
        const c = med(key('chute'), 'filesPerS');
        const u = med(key('stock-uppy'), 'filesPerS');
        const cM = med(key('chute'), 'MBps');
        const uM = med(key('stock-uppy'), 'MBps');
        const linkFiles = (linkMBps * 1e6) / set.size;
        // Large files fill the link either way: 3× stock Uppy is then physically impossible.
        const linkBound = uM != null && uM / linkMBps > 0.8;
        figures.push({
          label: `${VERSION_LABEL[version]}, ${setTitle(set)} on ${LINK.mbit} Mbit/s × ${LINK.rttMs} ms: ${LABEL.chute}, files per second`,
          value: c,
          unit: 'files/s',
          better: 'higher',
          peer: { label: LABEL['stock-uppy'], value: u },
          ...(linkBound ? {} : { target: { text: '≥ 3×', min: 3 } }),
          note: `${cM?.toFixed(2) ?? '—'} MB/s vs ${uM?.toFixed(2) ?? '—'} MB/s; the link carries at most ${linkFiles.toFixed(1)} files/s of this size (${linkMBps} MB/s): Chute ${x(cM, linkMBps)} of the link, stock Uppy ${x(uM, linkMBps)}${linkBound ? ' (stock Uppy already fills the link: no 3× to be had)' : ''}`,
        });
        const cpuMed = (c: Client, g: string) => median((cpu.get(key(c)) ?? []).map((v) => v[g] ?? 0));
        const f1 = (v: number | null) => v?.toFixed(1) ?? '—';
        rows.push([
          VERSION_LABEL[version],
          setTitle(set),
          c?.toFixed(1) ?? '—',
          u?.toFixed(1) ?? '—',
          x(c, u),
          cM?.toFixed(2) ?? '—',
          uM?.toFixed(2) ?? '—',
          x(cM, linkMBps),
          x(uM, linkMBps),
          `${f1(cpuMed('chute', 'browser'))} / ${f1(cpuMed('stock-uppy', 'browser'))}`,
          `${cpuMed('chute', 'machine cores busy')?.toFixed(2) ?? '—'} / ${cpuMed('stock-uppy', 'machine cores busy')?.toFixed(2) ?? '—'}`,
          String(rates.get(key('chute'))?.length ?? 0),
        ]);
      }
    }
    return {
      status: rates.size > 0 ? 'ok' : 'failed',
      ...(errors.length > 0 ? { reason: errors.join('; ') } : {}),
      conditions: [
        `Reproduce with \`${MANY_FILES_COMMAND}\` (root, Linux; about ${Math.round((Date.now() - started) / 60_000)} min here).`,
        `The link bench's setup (see its section, net/link-stack.ts): local-r2 and chute-server in network namespace ${ns.name}, a veth pair shaped with tc tbf to ${LINK.mbit} Mbit/s both ways, the userland delay proxy adding ${LINK.rttMs} ms per request/answer and per new connection in front of both.`,
        `Two ways to reach them: plain HTTP/1.1 (Chromium opens at most 6 connections per host, and every object costs a CORS preflight and its PUT: a PUT is never a CORS-simple request and each presigned URL is distinct, so no preflight is cached), and HTTPS with HTTP/2 as R2 serves it — an edge process in the namespace (net/h2-edge.ts: TLS, HTTP/2 with 16 MiB flow-control windows, keep-alive HTTP/1.1 to the origin, like Cloudflare's edge in front of R2) in front of local-r2 and of a second chute-server signing URLs for it; Chromium trusts the edge's throwaway certificate by its key pin.`,
        `Chromium ${browser.version}. All files selected in one <input multiple> and handed over at once: ${engineJson ? `Chute with experimental engine options ${JSON.stringify(engineJson)} (not as shipped)` : 'Chute as shipped (`new ChuteEngine({ endpoint, getAuthToken })`, defaults: IndexedDB resume records, tab channel, Web Locks, MD5 + CRC64NVME in workers) and `engine.upload(file)` for each'}; stock @uppy/aws-s3 6.3.1 with its defaults (\`limit\` 6 from its source, single PUT below 100 MiB), \`uppy.addFiles(all)\` then \`upload()\`. The page makes the engine (or Uppy) when it opens, as an app does, and the files are dropped ${PICK_MS} ms later (Chute preconnects to its signer meanwhile); timed from the drop to the last file stored; before the counted runs, one uncounted warm-up run per client on a tenth of the set.`,
        `Median of ${Math.min(...[...rates.values()].map((v) => v.length))} run(s) per client, set and HTTP version, order rotated per repetition. After every run the bucket is listed: the object count and every size must match; in the first repetition 5 objects per client are read back and compared byte for byte (MD5) with their files; the bucket is emptied between runs.`,
      ].join(' '),
      figures,
      tables: [
        {
          title: `Many files on ${LINK.mbit} Mbit/s × ${LINK.rttMs} ms (medians)`,
          note: `Reproduce: \`${MANY_FILES_COMMAND}\`. Goal: Chute ≥ 3× stock Uppy in files per second.`,
          columns: ['store reached over', 'files', 'Chute files/s', 'stock Uppy files/s', 'Chute ÷ stock Uppy', 'Chute MB/s', 'stock Uppy MB/s', 'Chute ÷ link', 'stock Uppy ÷ link', 'browser CPU ms/file (Chute / Uppy)', 'machine cores busy of 2 (Chute / Uppy)', 'runs'],
          rows,
        },
      ],
      extra: {
        command: MANY_FILES_COMMAND,
        link: { ...LINK, rateMBps: linkMBps },
        sets,
        versions,
        runs: Object.fromEntries(rates),
        cpuMsPerFile: Object.fromEntries(cpu),
        protocols: Object.fromEntries(protocols),
        details: Object.fromEntries(details),
        ...(engineJson ? { engine: engineJson } : {}),
      },
    };
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // keep tearing down
      }
    }
  }
}

async function runPage(browser: Browser, url: string, files: string[], opts: Record<string, unknown>, onStart: () => void, onEnd: () => void): Promise<ManyResult> {
  const page = await browser.context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'bench' in window);
    await page.setInputFiles('#files', files);
    // CHUTE_BENCH_CPU_PROFILE=<dir>: a CDP profile of the page's main thread per run (open in DevTools).
    const profileDir = process.env.CHUTE_BENCH_CPU_PROFILE;
    const cdp = profileDir ? await browser.context.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    onStart(); // CPU is counted from here: page load and file selection are not the upload's
    const r = await page.evaluate((o) => (window as unknown as { bench: { run(x: unknown): Promise<ManyResult> } }).bench.run(o), opts);
    onEnd(); // before the page (and its renderer process) is gone
    if (cdp && profileDir) {
      const { profile } = await cdp.send('Profiler.stop');
      mkdirSync(profileDir, { recursive: true });
      writeFileSync(path.join(profileDir, `${new URL(url).pathname.slice(1).replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    }
    return r;
  } finally {
    await page.close();
  }
}

async function listAll(s3: S3Client): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key ?? '', size: o.Size ?? -1 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Every file landed once with its size; a sample is read back and compared with its file. */
async function verifyStored(s3: S3Client, set: FileSet, md5s: Map<string, string>, readBack: boolean): Promise<void> {
  const objects = await listAll(s3);
  if (objects.length !== set.count) throw new Error(`stored ${objects.length} objects, expected ${set.count}`);
  const wrong = objects.filter((o) => o.size !== set.size);
  if (wrong.length) throw new Error(`${wrong.length} objects of the wrong size (e.g. ${wrong[0]?.key}: ${wrong[0]?.size})`);
  // Chute keys end in `/<name>`, stock Uppy's in `/<uuid>-<name>`: the file is found by its (fixed-width) name.
  const fileOf = (key: string) => [...md5s.keys()].find((n) => key.endsWith(n));
  const names = new Set(objects.map((o) => fileOf(o.key)).filter(Boolean));
  if (names.size !== set.count) throw new Error(`${set.count - names.size} files missing or stored twice`);
  if (!readBack) return;
  const step = Math.max(1, Math.floor(objects.length / 5));
  for (let i = 0; i < objects.length; i += step) {
    const o = objects[i] as { key: string };
    const name = fileOf(o.key) ?? '';
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.key }));
    const h = createHash('md5');
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) h.update(chunk);
    if (h.digest('hex') !== md5s.get(name)) throw new Error(`${o.key}: stored bytes differ from ${name}`);
  }
}

async function emptyBucket(s3: S3Client): Promise<void> {
  const objects = await listAll(s3);
  for (let i = 0; i < objects.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })) } }));
  }
}
