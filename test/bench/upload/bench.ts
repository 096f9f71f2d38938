// Upload bench: the same file, Chromium → local-r2, by Chute and by its peers in one run, on
// plain loopback and through a 40 ms round-trip delay proxy (store and signer both behind it).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_PART_SIZE } from '@chute/protocol';
import { type Service, startLocalR2Process } from '../../reliability/lib/services.js';
import { startSignerProcess } from '../../reliability/lib/signer-process.js';
import { type Browser, launchChromium, sampleHeap } from '../lib/browser.js';
import { putBenchCors } from '../lib/bucket-cors.js';
import { buildPages } from '../lib/build-pages.js';
import { cpuDelta, cpuSnapshot } from '../lib/cpu.js';
import { MiB, makeRandomFile, md5File } from '../lib/files.js';
import { startStaticServer } from '../lib/static-server.js';
import { type DelayProxy, startDelayProxy } from '../net/delay-proxy.js';
import { type Figure, median, type Section } from '../report.js';
import type { BenchContext } from '../sections.js';
import type { PageResult } from './page/common.js';
import { awsCp, curlPut, s3Client, type StoreAccess } from './peers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUCKET = 'bench';
const CREDS = { accessKeyId: 'chute-bench', secretAccessKey: 'chute-bench-secret-key-0123456789' };
const TOKEN = 'bench-user-token';

type ClientId = 'chute' | 'chute-no-crc' | 'stock-uppy' | 'parallel-unhashed' | 'baseline' | 'curl' | 'aws';
const CLIENT_LABEL: Record<ClientId, string> = {
  chute: 'Chute (@chute/uploader, MD5 + CRC64NVME in workers)',
  'chute-no-crc': 'Chute, additional checksum off (MD5 only)',
  'stock-uppy': 'stock @uppy/aws-s3 6.3.1',
  'parallel-unhashed': 'parallel parts (5), no hashing (stock-Uppy protocol)',
  baseline: 'same protocol, hashing on the main thread',
  curl: 'curl -T (one presigned PUT)',
  aws: 'aws s3 cp (awscli v2)',
};

interface Condition {
  id: 'loopback' | 'rtt40';
  title: string;
  signerUrl: string;
  store: StoreAccess;
}

export async function benchUpload(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  const size = Number(process.env.CHUTE_BENCH_UPLOAD_MIB ?? (ctx.quick ? 48 : 1024)) * MiB;
  const heapSize = Number(process.env.CHUTE_BENCH_HEAP_MIB ?? (ctx.quick ? 96 : 2048)) * MiB;
  const reps = Number(process.env.CHUTE_BENCH_REPS ?? (ctx.quick ? 1 : 3));
  // Later repetitions are dropped (and said so) if the section would overrun the run's 15 minutes.
  // Still to come after the repetitions: the heap uploads, then the local-r2 and signer sections.
  const reserveMs = (ctx.quick ? 45 : 300) * 1000;
  const budgetMs = Math.max(
    60_000,
    Math.min(Number(process.env.CHUTE_BENCH_UPLOAD_BUDGET_S ?? (ctx.quick ? 150 : 560)) * 1000, ctx.deadline - Date.now() - reserveMs),
  );
  const started = Date.now();
  const partSize = DEFAULT_PART_SIZE;
  const file = makeRandomFile(path.join(ctx.workDir, `upload-${size}.bin`), size);
  const fileMd5 = await md5File(file);
  const dataDir = path.join(ctx.workDir, 'r2-data');
  mkdirSync(dataDir, { recursive: true });

  const cleanup: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  };
  try {
    const r2: Service = await startLocalR2Process(dataDir, BUCKET, 0, [
      ...['--access-key-id', CREDS.accessKeyId, '--secret-access-key', CREDS.secretAccessKey],
    ]);
    cleanup.push(() => r2.kill());
    const r2Url = new URL(r2.url);
    const storeProxy: DelayProxy = await startDelayProxy({ targetHost: r2Url.hostname, targetPort: Number(r2Url.port) });
    cleanup.push(() => storeProxy.close());

    const pagesDir = path.join(ctx.workDir, 'upload-pages');
    const pages = await buildPages(path.join(here, 'page'), pagesDir, ['chute', 'stock-uppy', 'baseline', 'parallel-unhashed']);
    const web = await startStaticServer({}, pagesDir);
    cleanup.push(() => web.close());

    const direct: StoreAccess = { endpoint: r2.url, bucket: BUCKET, ...CREDS };
    const delayed: StoreAccess = { ...direct, endpoint: storeProxy.url };
    await putBenchCors(s3Client(direct), BUCKET, web.url);

    const signerOpts = { bucket: BUCKET, credentials: CREDS, tokens: { [TOKEN]: 'bench' }, corsOrigins: [web.url] };
    const signerLoop = await startSignerProcess({ ...signerOpts, storeEndpoint: direct.endpoint });
    cleanup.push(() => signerLoop.kill());
    const signerBehindProxy = await startSignerProcess({ ...signerOpts, storeEndpoint: delayed.endpoint });
    cleanup.push(() => signerBehindProxy.kill());
    const sUrl = new URL(signerBehindProxy.url);
    const signerProxy = await startDelayProxy({ targetHost: sUrl.hostname, targetPort: Number(sUrl.port) });
    cleanup.push(() => signerProxy.close());

    const conditions: Condition[] = [
      { id: 'loopback', title: 'plain loopback', signerUrl: signerLoop.url, store: direct },
      { id: 'rtt40', title: '40 ms RTT (delay proxy before store and signer)', signerUrl: signerProxy.url, store: delayed },
    ];

    const browser: Browser = await launchChromium();
    cleanup.push(() => browser.close());

    // `atEnd` runs before the page closes (its renderer's CPU time is gone once it exits).
    const runPage = async (client: string, signerUrl: string, theFile: string, extra: Record<string, unknown>, atEnd?: () => void) => {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${web.url}/${client}.html`);
        await page.waitForFunction(() => 'bench' in window);
        await page.setInputFiles('#file', theFile);
        const stopHeap = await sampleHeap(page);
        const r = await page.evaluate(
          (o) => (window as unknown as { bench: { run(x: unknown): Promise<PageResult> } }).bench.run(o),
          { signerUrl, token: TOKEN, partSize, ...extra },
        );
        const cdpHeap = await stopHeap();
        atEnd?.();
        return { ...r, heapPeak: Math.max(r.heapPeak, cdpHeap) };
      } finally {
        await page.close();
      }
    };

    // CHUTE_BENCH_CLIENTS / CHUTE_BENCH_CONDITIONS (comma lists) narrow a run while investigating.
    const pick = <T>(all: T[], env: string | undefined, id: (x: T) => string = String) => (env ? all.filter((x) => env.split(',').includes(id(x))) : all);
    const clients = pick<ClientId>(['chute', 'stock-uppy', 'curl', 'aws', 'chute-no-crc', 'parallel-unhashed', 'baseline'], process.env.CHUTE_BENCH_CLIENTS);
    const procNames = new Map<number, string>([
      [r2.pid, 'local-r2'],
      [signerLoop.pid, 'signer'],
      [signerBehindProxy.pid, 'signer'],
    ]);
    // CPU ms per MB uploaded, per process group, per client and condition (medians over repetitions).
    const cpu = new Map<string, Map<string, number[]>>();
    const skipped: string[] = [];
    for (const c of ['chute', 'stock-uppy', 'baseline', 'parallel-unhashed'] as const) if (!pages.includes(c)) skipped.push(`${c} page missing`);
    const rates = new Map<string, number[]>();
    const longTasks = new Map<string, { count: number[]; ms: number[]; max: number[] }>();
    const verified = new Set<string>();
    const s3 = s3Client(direct);
    let seq = 0;
    let chutePool: number | undefined;

    const one = async (cond: Condition, client: ClientId): Promise<void> => {
      const key = `bench/${cond.id}/${client}-${seq++}`;
      let ms: number;
      let storedKey = key;
      const cpuBefore = cpuSnapshot(procNames);
      let cpuAfter: ReturnType<typeof cpuSnapshot> | undefined;
      if (client === 'curl') ms = await curlPut(cond.store, file, key);
      else if (client === 'aws') ms = await awsCp(cond.store, file, key);
      else {
        const page = client.startsWith('chute') ? 'chute' : client;
        const r = await runPage(page, cond.signerUrl, file, {
          checksum: client === 'chute-no-crc' ? 'NONE' : 'CRC64NVME',
          concurrency: Number(process.env.CHUTE_BENCH_CONCURRENCY ?? 5),
        }, () => {
          cpuAfter = cpuSnapshot(procNames);
        });
        ms = r.ms;
        storedKey = r.key;
        if (client === 'chute' && typeof r.detail?.poolSize === 'number') chutePool = r.detail.poolSize;
        // With CRC64NVME on, Chute must have had the store confirm the whole-object checksum.
        if (client === 'chute' && r.detail?.verifiedBy !== 'CRC64NVME') throw new Error(`chute: verified by ${String(r.detail?.verifiedBy)}, not CRC64NVME`);
        const lt = longTasks.get(`${cond.id}:${client}`) ?? { count: [], ms: [], max: [] };
        lt.count.push(r.longTaskCount);
        lt.ms.push(r.longTaskMs);
        lt.max.push(r.maxLongTaskMs);
        longTasks.set(`${cond.id}:${client}`, lt);
      }
      const perGroup = cpu.get(`${cond.id}:${client}`) ?? new Map<string, number[]>();
      for (const [group, ms] of cpuDelta(cpuBefore, cpuAfter ?? cpuSnapshot(procNames))) {
        const list = perGroup.get(group) ?? [];
        list.push(ms / (size / 1e6));
        perGroup.set(group, list);
      }
      cpu.set(`${cond.id}:${client}`, perGroup);
      if (process.env.CHUTE_BENCH_VERBOSE === '1') {
        const top = [...perGroup].map(([g, v]) => `${g} ${(v.at(-1) ?? 0).toFixed(1)}`).join(', ');
        console.log(`[bench] ${cond.id}/${client}: ${(size / 1e6 / (ms / 1000)).toFixed(1)} MB/s; CPU ms/MB: ${top}`);
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: storedKey }));
      if (head.ContentLength !== size) throw new Error(`${client}: stored ${head.ContentLength} bytes, expected ${size}`);
      // Read back and compare the bytes once per client and condition (it costs a full read).
      if (!verified.has(`${cond.id}:${client}`)) {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: storedKey }));
        const h = createHash('md5');
        for await (const chunk of got.Body as AsyncIterable<Uint8Array>) h.update(chunk);
        if (h.digest('hex') !== fileMd5) throw new Error(`${client} (${cond.id}): stored bytes differ from the file`);
        verified.add(`${cond.id}:${client}`);
      }
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: storedKey }));
      const list = rates.get(`${cond.id}:${client}`) ?? [];
      list.push(size / 1e6 / (ms / 1000));
      rates.set(`${cond.id}:${client}`, list);
    };

    const errors: string[] = [];
    // Repetition 1: every client under both conditions. Further repetitions (for medians) only
    // for the clients behind the targets, while the run's time budget allows.
    const keyClients = pick<ClientId>(['chute', 'stock-uppy', 'curl'], process.env.CHUTE_BENCH_CLIENTS);
    let repsDone = 0;
    for (let rep = 0; rep < reps; rep++) {
      if (rep > 0 && Date.now() - started > budgetMs * 0.75) {
        errors.push(`stopped after ${rep} of ${reps} repetitions (time budget); repetitions after the first cover ${keyClients.join(', ')} only`);
        break;
      }
      const set = rep === 0 ? clients : keyClients;
      for (const cond of pick(conditions, process.env.CHUTE_BENCH_CONDITIONS, (c) => c.id)) {
        // Rotate the order each repetition so slow drift on the shared machine spreads evenly.
        const order = set.map((_, i) => set[(i + rep) % set.length] as ClientId);
        for (const client of order) {
          if (client !== 'curl' && client !== 'aws' && !pages.includes(client.startsWith('chute') ? 'chute' : client)) continue;
          try {
            await one(cond, client);
          } catch (err) {
            errors.push(`${cond.id}/${client}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
          }
        }
      }
      repsDone = rep + 1;
    }

    // Memory: one bigger upload each by Chute and stock Uppy, page heap sampled through CDP.
    // CHUTE_BENCH_HEAP_MIB=0 skips it.
    const heapFile = heapSize > 0 ? makeRandomFile(path.join(ctx.workDir, `heap-${heapSize}.bin`), heapSize) : '';
    const heap: Record<string, number | null> = { chute: null, 'stock-uppy': null };
    for (const client of heapSize > 0 ? (['chute', 'stock-uppy'] as const) : []) {
      if (!pages.includes(client)) continue;
      try {
        const r = await runPage(client, signerLoop.url, heapFile, { checksum: 'CRC64NVME', concurrency: 5 });
        heap[client] = r.heapPeak / 1e6;
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: r.key }));
      } catch (err) {
        errors.push(`heap/${client}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
      }
    }

    const figures: Figure[] = [];
    const med = (k: string) => median(rates.get(k) ?? []);
    for (const cond of conditions) {
      const chute = med(`${cond.id}:chute`);
      const fig = (peer: ClientId, target?: Figure['target'], label = CLIENT_LABEL.chute) =>
        figures.push({
          label: `${cond.title}: ${label}`,
          value: chute,
          unit: 'MB/s',
          better: 'higher',
          peer: { label: CLIENT_LABEL[peer], value: med(`${cond.id}:${peer}`) },
          ...(target ? { target } : {}),
        });
      fig('stock-uppy', cond.id === 'rtt40' ? { text: '≥ 2.5×', min: 2.5 } : { text: '≥ 1.5×', min: 1.5 });
      fig('curl', cond.id === 'loopback' ? { text: '≥ 0.6×', min: 0.6 } : undefined);
      fig('aws');
      fig('chute-no-crc', { text: '≥ 0.9×', min: 0.9 }, 'Chute, CRC64NVME on');
      fig('parallel-unhashed');
      fig('baseline');
    }
    const lt = (k: string) => longTasks.get(k);
    for (const cond of conditions) {
      const c = lt(`${cond.id}:chute`);
      const b = lt(`${cond.id}:baseline`);
      figures.push({
        label: `${cond.title}: long tasks (> 50 ms) on the main thread during Chute's upload (median per upload)`,
        value: c ? median(c.count) : null,
        unit: 'tasks',
        better: 'lower',
        peer: { label: CLIENT_LABEL.baseline, value: b ? median(b.count) : null },
        target: { text: '0', maxValue: 0 },
        note: `blocked ${c ? median(c.ms)?.toFixed(0) : '—'} ms vs ${b ? median(b.ms)?.toFixed(0) : '—'} ms; longest ${c ? Math.max(...c.max).toFixed(0) : '—'} vs ${b ? Math.max(...b.max).toFixed(0) : '—'} ms`,
      });
    }
    figures.push({
      label: `peak JS heap of the page during a ${heapSize / MiB} MiB upload, Chute`,
      value: heap.chute ?? null,
      unit: 'MB',
      better: 'lower',
      peer: { label: 'stock @uppy/aws-s3', value: heap['stock-uppy'] ?? null },
      target: { text: '< 200 MB', maxValue: 200 },
    });
    figures.push({ label: 'peak RSS of local-r2 (whole upload section)', value: r2.peakRss() / 1e6, unit: 'MB', better: 'lower' });
    figures.push({
      label: 'peak RSS of the signer (max of its two instances)',
      value: Math.max(signerLoop.peakRss(), signerBehindProxy.peakRss()) / 1e6,
      unit: 'MB',
      better: 'lower',
    });
    // Where the two cores went, per MB uploaded: the browser's processes, the store, the signer,
    // the bench process (delay proxies) and the kernel's writeback.
    const cpuGroups = (k: string) => [...(cpu.get(k) ?? new Map<string, number[]>())].map(([g, v]) => [g, median(v) ?? 0] as const);
    const shown = ['chromium browser', 'chromium renderer', 'chromium NetworkService', 'local-r2', 'signer', 'bench process (proxies, static server)'];
    const cpuRows: (string | number)[][] = [];
    for (const cond of conditions) {
      for (const client of clients) {
        if (client === 'curl' || client === 'aws' || !cpu.has(`${cond.id}:${client}`)) continue;
        const groups = new Map(cpuGroups(`${cond.id}:${client}`));
        const total = [...groups.values()].reduce((a, b) => a + b, 0);
        const r = median(rates.get(`${cond.id}:${client}`) ?? []);
        cpuRows.push([
          cond.id,
          CLIENT_LABEL[client],
          r == null ? '—' : r.toFixed(0),
          ...shown.map((g) => (groups.get(g) ?? 0).toFixed(1)),
          (total - shown.reduce((a, g) => a + (groups.get(g) ?? 0), 0)).toFixed(1),
          total.toFixed(1),
          r == null ? '—' : ((total * r) / 1000).toFixed(2),
        ]);
      }
    }
    const all = [...skipped, ...errors];
    return {
      tables: [
        {
          title: 'Where the CPU went (CPU ms per MB uploaded, median per client)',
          note: 'Read from /proc for every process during each upload. "cores busy" = total × MB/s ÷ 1000: at about 2 the upload was CPU-bound on this 2-core machine, below it something else (round trips, one part at a time) set the pace. The renderer holds Chute\'s hashing workers; the browser process reads the File (once for a plain upload, twice when a worker also reads it to hash).',
          columns: ['condition', 'client', 'MB/s', 'Chromium browser', 'Chromium renderer', 'Chromium network', 'local-r2', 'signer', 'bench (proxies)', 'other (kernel…)', 'total', 'cores busy'],
          rows: cpuRows,
        },
      ],
      status: figures.some((f) => f.value != null) ? 'ok' : 'failed',
      ...(all.length > 0 ? { reason: all.join('; ') } : {}),
      conditions: [
        `${size / MiB} MiB random file (disk-backed File in Chromium ${browser.version}); part size ${partSize / MiB} MiB for every browser client; Chute and the baseline with 5 parts in flight, stock Uppy as shipped (one part at a time per file). Chute's hashing pool has its default size here: ${chutePool ?? '?'} worker(s) (min(cores − 1, 4)).`,
        `Median of ${repsDone} run(s) for ${keyClients.join(', ')} (1 for the other clients), order rotated per repetition; every stored object's size checked, and its bytes read back and compared once per client and condition.`,
        'Figures are wall time from the start of the upload to the completed object; curl and aws include process start-up. Browser clients talk to the signer (Chute signer as a child process) and to local-r2 (CLI child process).',
        'The 40 ms condition puts a TCP delay proxy (20 ms each way per chunk) in front of both the store and the signer.',
      ].join(' '),
      figures,
      extra: {
        cpuMsPerMB: Object.fromEntries(
          [...cpu].map(([k, groups]) => [k, Object.fromEntries([...groups].map(([g, v]) => [g, Number((median(v) ?? 0).toFixed(2))]))]),
        ),
        ratesMBps: Object.fromEntries(rates), longTasks: Object.fromEntries(longTasks), heapMB: heap },
    };
  } finally {
    await closeAll();
  }
}
