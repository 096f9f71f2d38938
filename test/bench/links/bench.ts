// Link bench (`pnpm bench --links`, and part of the full `pnpm bench`): uploads over real shaped
// links on this machine instead of loopback. The store (local-r2) and the signer run in their own
// network namespace behind a veth pair shaped with `tc tbf` on both ends; a userland delay proxy in
// that namespace adds the round trip (RTT/2 each way per chunk, plus one RTT before a new
// connection's first byte: the TCP handshake). Chromium and the command-line peers run in the root
// namespace and reach the store over the shaped veth. Per link, in the same run, medians of N:
// Chute as shipped, stock @uppy/aws-s3 6 with its defaults, `aws s3 cp` with its defaults, and
// `curl -T` (one stream). Each link is first proven: `curl -T` straight to local-r2 (shaped, no
// proxy) and through the proxy, against the shaped rate.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, launchChromium } from '../lib/browser.js';
import { cpuDelta, cpuSnapshot, ourChromium, sumBrowser } from '../lib/cpu.js';
import { MiB, makeRandomFile, md5File } from '../lib/files.js';
import { BENCH_BUCKET, BENCH_TOKEN, type Endpoints, PICK_MS, startLinkStack } from '../net/link-stack.js';
import { netnsUnavailable, type SpawnedInNs } from '../net/netns.js';
import { type Figure, median, type Section } from '../report.js';
import type { BenchContext } from '../sections.js';
import type { PageResult } from '../upload/page/common.js';
import { awsCp, curlPut } from '../upload/peers.js';

const BUCKET = BENCH_BUCKET;
const TOKEN = BENCH_TOKEN;

export const LINK_COMMAND = 'pnpm bench --links';

export interface LinkDef {
  id: string;
  mbit: number;
  rttMs: number;
  /** File size for this link: big enough that the fixed round trips (create, first connections, complete) are amortised. */
  mib: number;
}

export const LINKS: LinkDef[] = [
  { id: '50mbit-20ms', mbit: 50, rttMs: 20, mib: 96 },
  { id: '200mbit-80ms', mbit: 200, rttMs: 80, mib: 384 },
  { id: '400mbit-150ms', mbit: 400, rttMs: 150, mib: 1024 },
];

type Client = 'chute' | 'stock-uppy' | 'aws' | 'curl';
export const LINK_CLIENTS: Client[] = ['chute', 'stock-uppy', 'aws', 'curl'];
export const LINK_CLIENT_LABEL: Record<Client, string> = {
  chute: 'Chute (as shipped: MD5 + CRC64NVME in workers)',
  'stock-uppy': 'stock @uppy/aws-s3 6.3.1 (defaults)',
  aws: 'aws s3 cp (awscli v2 defaults)',
  curl: 'curl -T (one stream)',
};

const linkMBps = (l: LinkDef) => (l.mbit * 1e6) / 8 / 1e6;
const linkTitle = (l: LinkDef) => `${l.mbit} Mbit/s × ${l.rttMs} ms`;

export async function benchLinks(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  const why = netnsUnavailable();
  if (why) return { status: 'skipped', reason: why, figures: [] };
  const reps = Number(process.env.CHUTE_BENCH_LINK_REPS ?? process.env.CHUTE_BENCH_REPS ?? 3);
  const sizes = process.env.CHUTE_BENCH_LINK_MIB?.split(',').map(Number);
  const only = process.env.CHUTE_BENCH_LINKS?.split(',');
  const links = LINKS.map((l, i) => ({ ...l, mib: sizes?.[i] ?? sizes?.[0] ?? l.mib })).filter((l) => !only || only.includes(l.id));
  const clientsEnv = process.env.CHUTE_BENCH_CLIENTS?.split(',');
  const clients = LINK_CLIENTS.filter((c) => !clientsEnv || clientsEnv.includes(c));
  const budgetMs = Number(process.env.CHUTE_BENCH_LINKS_BUDGET_S ?? 1500) * 1000;
  const started = Date.now();
  const verbose = process.env.CHUTE_BENCH_VERBOSE === '1';
  // Experiments only: engine options for Chute (the report says when any were set), and several
  // variants in one run: CHUTE_BENCH_ENGINE_VARIANTS='[{"concurrency":6},{"hashAhead":32}]'.
  const engineJson = process.env.CHUTE_BENCH_ENGINE_JSON ? (JSON.parse(process.env.CHUTE_BENCH_ENGINE_JSON) as Record<string, unknown>) : undefined;
  const variants = process.env.CHUTE_BENCH_ENGINE_VARIANTS ? (JSON.parse(process.env.CHUTE_BENCH_ENGINE_VARIANTS) as Record<string, unknown>[]) : [];
  // Experiments only: bench-page knobs for Chute (A/B of where its CPU goes, test/bench/upload/page/chute.ts),
  // each run like a client with its CPU per MB: CHUTE_BENCH_PAGE_VARIANTS='[{"precomputed":true},{"noTabs":true}]'.
  const pageVariants = process.env.CHUTE_BENCH_PAGE_VARIANTS ? (JSON.parse(process.env.CHUTE_BENCH_PAGE_VARIANTS) as Record<string, unknown>[]) : [];
  const log = (s: string) => console.log(`[bench] links: ${s}`);

  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const errors: string[] = [];
  try {
    const stack = await startLinkStack({ workDir: ctx.workDir, pages: ['chute', 'stock-uppy'] });
    cleanup.push(() => stack.close());
    const { ns } = stack;
    const { r2, web, pages, direct, s3 } = stack;
    const [signer] = stack.signers as [SpawnedInNs];
    const { store: viaProxy, signerUrl } = stack.endpoints['http/1.1'] as Endpoints;
    const browser: Browser = await launchChromium();
    cleanup.push(() => browser.close());

    // The page makes the engine (or Uppy) when it opens, as an app does, and the file is picked
    // PICK_MS later: Chute's preconnect to the signer is part of what a user gets.
    const pageOpts = (client: Client): Record<string, unknown> =>
      client === 'chute' ? { signerUrl, token: TOKEN, pickMs: PICK_MS, ...(engineJson ? { engine: engineJson } : {}) } : { signerUrl, token: TOKEN, defaults: true, pickMs: PICK_MS };
    const rates = new Map<string, number[]>(); // `${link}:${client}` → MB/s per repetition
    const cpu = new Map<string, Map<string, number[]>>(); // `${link}:${client}` → group → ms/MB
    const proof = new Map<string, { direct: number; directMiB: number; rttMs: number; firstRequestMs: number; shaping: string }>();
    const verified = new Set<string>();
    let repsDone = Infinity;
    let seq = 0;

    for (const link of links) {
      if (Date.now() - started > budgetMs) {
        errors.push(`${link.id}: not run (time budget of ${budgetMs / 1000} s spent)`);
        continue;
      }
      const size = link.mib * MiB;
      const file = makeRandomFile(path.join(ctx.workDir, `link-${size}.bin`), size);
      const fileMd5 = await md5File(file);
      ns.shape(link.mbit);
      const proxy: SpawnedInNs = await stack.startDelayProxy(link.rttMs);
      const fixed = new Map<number, string>([
        [r2.pid, 'local-r2'],
        [signer.pid, 'signer'],
        [proxy.pid, 'delay proxy'],
      ]);
      // Only this bench's Chromium counts as browser-side CPU: other suites may run their own
      // Chromium on the same machine at the same time.
      const names = () => ourChromium(fixed);
      try {
        // The link, proven: one stream straight to the store (shaped, no proxy). Through the proxy
        // the proof is the curl peer itself (the same file, medians of the repetitions).
        const proofBytes = Math.min(size, Math.max(32 * MiB, Math.round((linkMBps(link) * 1e6 * 10) / MiB) * MiB));
        const proofFile = makeRandomFile(path.join(ctx.workDir, `link-proof-${proofBytes}.bin`), proofBytes);
        const tDirect = await curlPut(direct, proofFile, `proof/${link.id}/direct`);
        rmSync(proofFile, { force: true });
        const rtt = await measureRtt(`${viaProxy.endpoint}/`);
        proof.set(link.id, {
          direct: proofBytes / 1e6 / (tDirect / 1000),
          directMiB: proofBytes / MiB,
          rttMs: rtt.rttMs,
          firstRequestMs: rtt.firstMs,
          shaping: ns.describeShaping(),
        });
        log(
          `${link.id}: link proof curl -T ${(proofBytes / MiB).toFixed(0)} MiB straight to the store ${(proofBytes / 1e6 / (tDirect / 1000)).toFixed(2)} MB/s (shaped ${linkMBps(link)} MB/s); through the proxy: request RTT ${rtt.rttMs.toFixed(0)} ms, a new connection's first request ${rtt.firstMs.toFixed(0)} ms`,
        );
        for (const k of [`proof/${link.id}/direct`]) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: k }));

        // One uncounted warm-up upload per browser client, before the first link's repetitions:
        // the first upload after start-up met cold servers (JIT, first store calls) and ran ~2%
        // slower on the 150 ms link, whichever client went first.
        if (link === links[0]) {
          const warmBytes = Math.min(size, 16 * MiB);
          const warmFile = makeRandomFile(path.join(ctx.workDir, `link-warm-${warmBytes}.bin`), warmBytes);
          for (const client of clients.filter((c) => pages.includes(c))) {
            try {
              const r = await runPage(browser, `${web.url}/${client}.html`, warmFile, pageOpts(client), () => {});
              await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: r.key }));
            } catch (err) {
              log(`${link.id} ${client} warm-up failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            }
          }
          rmSync(warmFile, { force: true });
        }

        for (let rep = 0; rep < reps; rep++) {
          if (rep > 0 && Date.now() - started > budgetMs) {
            errors.push(`${link.id}: stopped after ${rep} of ${reps} repetitions (time budget)`);
            repsDone = Math.min(repsDone, rep);
            break;
          }
          // Rotate the order each repetition so drift on the shared machine spreads evenly.
          const order = clients.map((_, i) => clients[(i + rep) % clients.length] as Client);
          for (const client of order) {
            const key = `links/${link.id}/${client}-${seq++}`;
            try {
              // Browser clients: from the start of the upload call (page load, engine or Uppy made on it, and the pick pause not counted).
              let before = cpuSnapshot(names());
              let after: ReturnType<typeof cpuSnapshot> | undefined;
              let ms: number;
              let storedKey = key;
              if (client === 'curl') ms = await curlPut(viaProxy, file, key);
              else if (client === 'aws') ms = await awsCp(viaProxy, file, key);
              else {
                if (!pages.includes(client)) throw new Error(`${client} page missing`);
                const r = await runPage(browser, `${web.url}/${client}.html`, file, { ...pageOpts(client), timeline: verbose }, () => {
                  after = cpuSnapshot(names());
                }, () => {
                  before = cpuSnapshot(names());
                });
                ms = r.ms;
                storedKey = r.key;
                if (verbose && r.detail?.timeline) for (const t of r.detail.timeline as unknown[]) log(`  ${JSON.stringify(t)}`);
                if (client === 'chute' && r.detail?.verifiedBy !== 'CRC64NVME') throw new Error(`chute: verified by ${String(r.detail?.verifiedBy)}, not CRC64NVME`);
              }
              const groups = cpuDelta(before, after ?? cpuSnapshot(names()));
              const perGroup = cpu.get(`${link.id}:${client}`) ?? new Map<string, number[]>();
              for (const [g, v] of groups) perGroup.set(g, [...(perGroup.get(g) ?? []), v / (size / 1e6)]);
              cpu.set(`${link.id}:${client}`, perGroup);
              const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: storedKey }));
              if (head.ContentLength !== size) throw new Error(`${client}: stored ${head.ContentLength} bytes, expected ${size}`);
              // The bytes are read back (over the unshaped control veth) once per client and link.
              if (!verified.has(`${link.id}:${client}`)) {
                const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: storedKey }));
                const h = createHash('md5');
                for await (const chunk of got.Body as AsyncIterable<Uint8Array>) h.update(chunk);
                if (h.digest('hex') !== fileMd5) throw new Error(`${client}: stored bytes differ from the file`);
                verified.add(`${link.id}:${client}`);
              }
              await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: storedKey }));
              const rate = size / 1e6 / (ms / 1000);
              rates.set(`${link.id}:${client}`, [...(rates.get(`${link.id}:${client}`) ?? []), rate]);
              const browserCpu = sumBrowser(groups) / (size / 1e6);
              log(`${link.id} rep ${rep + 1}/${reps} ${client}: ${rate.toFixed(2)} MB/s (${(rate / linkMBps(link)).toFixed(2)}× link)${client === 'chute' || client === 'stock-uppy' ? `, browser CPU ${browserCpu.toFixed(1)} ms/MB` : ''}`);
              if (verbose) log(`  CPU ms/MB: ${[...groups].map(([g, v]) => `${g} ${(v / (size / 1e6)).toFixed(2)}`).join(', ')}`);
            } catch (err) {
              errors.push(`${link.id}/${client}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
              log(`${link.id} ${client} failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            }
          }
          // The hash cost alone, in the same run: MD5 + CRC64NVME of the same file in one worker of
          // the Chute page (the product's pool), CPU from /proc like the clients'.
          if (clients.includes('chute')) {
            try {
              let before = cpuSnapshot(names());
              let after: ReturnType<typeof cpuSnapshot> | undefined;
              const r = await runPageFn(browser, `${web.url}/chute.html`, file, 'hashOnly', {}, () => {
                after = cpuSnapshot(names());
              }, false, () => {
                before = cpuSnapshot(names());
              });
              const groups = cpuDelta(before, after ?? cpuSnapshot(names()));
              const perGroup = cpu.get(`${link.id}:hash`) ?? new Map<string, number[]>();
              for (const [g, v] of groups) perGroup.set(g, [...(perGroup.get(g) ?? []), v / (size / 1e6)]);
              cpu.set(`${link.id}:hash`, perGroup);
              log(`${link.id} rep ${rep + 1}/${reps} hash cost alone (MD5 + CRC64NVME, one worker): ${(size / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s, browser-side CPU ${(sumBrowser(groups) / (size / 1e6)).toFixed(2)} ms/MB`);
              if (verbose) log(`  CPU ms/MB: ${[...groups].map(([g, v]) => `${g} ${(v / (size / 1e6)).toFixed(2)}`).join(', ')}`);
            } catch (err) {
              errors.push(`${link.id}/hash cost: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            }
          }
          for (const knobs of pageVariants) {
            const vk = `${link.id}:chute ${JSON.stringify(knobs)}`;
            try {
              const o = { signerUrl, token: TOKEN, knobs, pickMs: PICK_MS, ...(engineJson ? { engine: engineJson } : {}) };
              await runPageFn(browser, `${web.url}/chute.html`, file, 'prepare', o, () => {}, true);
              const before = cpuSnapshot(names());
              let after: ReturnType<typeof cpuSnapshot> | undefined;
              const rss = rendererRss(names);
              const r = await runPageFn(browser, `${web.url}/chute.html`, file, 'run', o, () => {
                after = cpuSnapshot(names());
              }).finally(() => rss.stop());
              const groups = cpuDelta(before, after ?? cpuSnapshot(names()));
              const perGroup = cpu.get(vk) ?? new Map<string, number[]>();
              for (const [g, v] of groups) perGroup.set(g, [...(perGroup.get(g) ?? []), v / (size / 1e6)]);
              cpu.set(vk, perGroup);
              const rate = size / 1e6 / (r.ms / 1000);
              rates.set(vk, [...(rates.get(vk) ?? []), rate]);
              log(`${link.id} rep ${rep + 1}/${reps} chute ${JSON.stringify(knobs)}: ${rate.toFixed(2)} MB/s, browser CPU ${(sumBrowser(groups) / (size / 1e6)).toFixed(1)} ms/MB, renderer RSS peak ${(rss.peak() / MiB).toFixed(0)} MiB, JS heap peak ${(r.heapPeak / MiB).toFixed(0)} MiB`);
              if (verbose) log(`  CPU ms/MB: ${[...groups].map(([g, v]) => `${g} ${(v / (size / 1e6)).toFixed(2)}`).join(', ')}`);
              await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: r.key }));
            } catch (err) {
              errors.push(`${vk}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            }
          }
          for (const v of variants) {
            try {
              const r = await runPage(browser, `${web.url}/chute.html`, file, { signerUrl, token: TOKEN, engine: v, pickMs: PICK_MS, timeline: verbose }, () => {});
              if (verbose && r.detail?.timeline) for (const t of r.detail.timeline as unknown[]) log(`  ${JSON.stringify(t)}`);
              const rate = size / 1e6 / (r.ms / 1000);
              rates.set(`${link.id}:chute ${JSON.stringify(v)}`, [...(rates.get(`${link.id}:chute ${JSON.stringify(v)}`) ?? []), rate]);
              log(`${link.id} rep ${rep + 1}/${reps} chute ${JSON.stringify(v)}: ${rate.toFixed(2)} MB/s (${(rate / linkMBps(link)).toFixed(2)}× link)`);
              await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: r.key }));
            } catch (err) {
              errors.push(`${link.id}/chute ${JSON.stringify(v)}: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
            }
          }
          if (rep === reps - 1) repsDone = Math.min(repsDone, reps);
        }
      } finally {
        await proxy.kill();
        rmSync(file, { force: true });
      }
    }
    ns.shape(null);

    // ---- the report -------------------------------------------------------------------------
    const med = (k: string) => median(rates.get(k) ?? []);
    const browserCpuOf = (k: string) => {
      const g = cpu.get(k);
      if (!g) return null;
      const n = Math.max(...[...g.values()].map((v) => v.length));
      const perRun = Array.from({ length: n }, (_, i) => [...g].filter(([name]) => name.startsWith('chromium')).reduce((a, [, v]) => a + (v[i] ?? 0), 0));
      return median(perRun);
    };
    const figures: Figure[] = [];
    const rows: (string | number)[][] = [];
    const cpuRows: (string | number)[][] = [];
    for (const link of links) {
      const rate = linkMBps(link);
      const c = med(`${link.id}:chute`);
      const p = proof.get(link.id);
      const title = linkTitle(link);
      const curlMed = med(`${link.id}:curl`);
      const proxyCpu = median(cpu.get(`${link.id}:curl`)?.get('delay proxy') ?? []);
      figures.push({
        label: `${title}: link proof, curl -T straight to the store (shaped, no delay proxy, ${p?.directMiB ?? '?'} MiB)`,
        value: p?.direct ?? null,
        unit: 'MB/s',
        better: 'higher',
        peer: { label: 'shaped link rate (tbf)', value: rate },
        note: 'TCP/IP and Ethernet headers take ~4.4% of each 1514-byte frame: ~0.96× is the ceiling for any client',
      });
      figures.push({
        label: `${title}: link proof, curl -T through the delay proxy (the curl peer: ${link.mib} MiB, medians)`,
        value: curlMed,
        unit: 'MB/s',
        better: 'higher',
        peer: { label: 'shaped link rate (tbf)', value: rate },
        target: { text: '≥ 0.9×', min: 0.9 },
        note: `measured through the proxy: request RTT ${p ? p.rttMs.toFixed(0) : '—'} ms, a new connection's first request ${p ? p.firstRequestMs.toFixed(0) : '—'} ms; curl pays 3 RTT (handshake, Expect: 100-continue, answer) = ${((3 * link.rttMs) / 1000).toFixed(2)} s of ${curlMed ? ((link.mib * MiB) / 1e6 / curlMed).toFixed(1) : '—'} s; the proxy spent ${proxyCpu?.toFixed(1) ?? '—'} ms CPU per MB`,
      });
      const fig = (peerLabel: string, peerValue: number | null, target?: Figure['target']) =>
        figures.push({
          label: `${title}: ${LINK_CLIENT_LABEL.chute}`,
          value: c,
          unit: 'MB/s',
          better: 'higher',
          peer: { label: peerLabel, value: peerValue },
          ...(target ? { target } : {}),
        });
      fig('shaped link rate (tbf)', rate, { text: '≥ 0.9×', min: 0.9 });
      fig(LINK_CLIENT_LABEL['stock-uppy'], med(`${link.id}:stock-uppy`), link.rttMs >= 80 ? { text: '≥ 2×', min: 2 } : undefined);
      fig(LINK_CLIENT_LABEL.aws, med(`${link.id}:aws`), { text: '≥ 1.0×', min: 1 });
      fig(LINK_CLIENT_LABEL.curl, med(`${link.id}:curl`));
      const cu = browserCpuOf(`${link.id}:chute`);
      const su = browserCpuOf(`${link.id}:stock-uppy`);
      figures.push({
        label: `${title}: browser-side CPU per MB uploaded (browser, renderer with workers, GPU, network), Chute`,
        value: cu,
        unit: 'ms/MB',
        better: 'lower',
        peer: { label: 'stock @uppy/aws-s3 (no hashing)', value: su },
        note: 'Chute hashes every part (MD5 + CRC64NVME), stock Uppy sends the bytes unhashed',
      });
      const hc = browserCpuOf(`${link.id}:hash`);
      const allowed = su == null || hc == null ? null : su + hc;
      figures.push({
        label: `${title}: Chute CPU/MB ≤ stock Uppy CPU/MB + hash cost (MD5 + CRC64NVME of the same file alone in one worker, same run)`,
        value: cu,
        unit: 'ms/MB',
        better: 'lower',
        peer: { label: 'stock Uppy + hash cost', value: allowed },
        ...(allowed == null ? {} : { target: { text: `≤ ${allowed.toFixed(2)} ms/MB`, maxValue: allowed } }),
        note: `stock Uppy ${su?.toFixed(2) ?? '—'} + hash cost ${hc?.toFixed(2) ?? '—'} = ${allowed?.toFixed(2) ?? '—'} ms/MB; Chute ${cu?.toFixed(2) ?? '—'}: excess ${cu == null || allowed == null ? '—' : (cu - allowed).toFixed(2)} ms/MB (${cu == null || allowed == null ? 'not measured' : cu <= allowed ? 'target met' : 'target not met'})`,
      });
      const r = (a: number | null, b: number | null) => (a == null || b == null || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
      const f = (v: number | null) => (v == null ? '—' : v.toFixed(1));
      rows.push([
        title,
        `${link.mib} MiB`,
        rate.toFixed(2),
        f(c),
        f(med(`${link.id}:stock-uppy`)),
        f(med(`${link.id}:aws`)),
        f(med(`${link.id}:curl`)),
        r(c, rate),
        r(c, med(`${link.id}:stock-uppy`)),
        r(c, med(`${link.id}:aws`)),
        r(c, med(`${link.id}:curl`)),
      ]);
      const cpuLabel: Record<string, string> = { ...LINK_CLIENT_LABEL, hash: 'hash cost alone: MD5 + CRC64NVME of the file, one worker' };
      for (const client of ['chute', 'stock-uppy', 'hash', ...pageVariants.map((v) => `chute ${JSON.stringify(v)}`)]) {
        const g = cpu.get(`${link.id}:${client}`);
        if (!g) continue;
        const m = (name: string) => median(g.get(name) ?? []) ?? 0;
        const chromiumGroups = [...g.keys()].filter((n) => n.startsWith('chromium'));
        const other = chromiumGroups.filter((n) => !['chromium browser', 'chromium renderer', 'chromium gpu-process', 'chromium NetworkService'].includes(n));
        cpuRows.push([
          title,
          cpuLabel[client] ?? client,
          client === 'hash' ? '—' : f(med(`${link.id}:${client}`)),
          m('chromium browser').toFixed(2),
          m('chromium renderer').toFixed(2),
          m('chromium gpu-process').toFixed(2),
          m('chromium NetworkService').toFixed(2),
          other.reduce((a, n) => a + m(n), 0).toFixed(2),
          (browserCpuOf(`${link.id}:${client}`) ?? 0).toFixed(2),
          m('local-r2').toFixed(2),
          m('delay proxy').toFixed(2),
        ]);
      }
      if (cu != null && allowed != null && su != null && hc != null) {
        cpuRows.push([title, `goal: Chute ≤ stock Uppy + hash cost = ${su.toFixed(2)} + ${hc.toFixed(2)} = ${allowed.toFixed(2)}`, '', '', '', '', '', '', `${cu.toFixed(2)}: excess ${(cu - allowed).toFixed(2)} ${cu <= allowed ? '✅' : '❌'}`, '', '']);
      }
    }
    return {
      status: rates.size > 0 ? 'ok' : 'failed',
      ...(errors.length > 0 ? { reason: errors.join('; ') } : {}),
      conditions: [
        `Reproduce with \`${LINK_COMMAND}\` (root, Linux; about ${Math.round((Date.now() - started) / 60_000)} min here).`,
        `The store (local-r2) and the signer (chute-server) run in their own network namespace (${ns.name}), joined to the root namespace by a veth pair with addresses from 198.18.0.0/15 (client ${ns.clientIp}, store ${ns.storeIp}), shaped in the kernel with tc tbf on both ends (${ns.name ? 'burst ≈ 4 ms at the rate, 50 ms queue' : ''}).`,
        'This kernel has no netem: the round trip comes from a userland delay proxy in the store namespace (RTT/2 each way per chunk, and one RTT before a new connection\'s first byte, standing in for the TCP handshake), in front of both the store and the signer. TCP itself sees a short round trip to the proxy, so window growth over a long path (slow start, buffer limits) is not modelled: what the link charges is bandwidth and one RTT per request/answer and per new connection, which is what separates the clients here.',
        'The signer\'s own calls to the store pass the proxy undelayed (it sits next to the store; the user is the one far away).',
        `Chromium ${browser.version} in the root namespace. ${engineJson ? `Chute with experimental engine options ${JSON.stringify(engineJson)} (not as shipped);` : 'Chute as shipped (no options but the signer URL);'} stock @uppy/aws-s3 6.3.1 with its defaults (chunk size max(5 MiB, size ÷ 10,000), one part at a time, a single PUT up to 100 MiB); aws s3 cp with awscli v2's defaults (8 MiB parts, 10 requests at once, process start included); curl -T: one presigned PUT, one stream.`,
        `Median of ${Number.isFinite(repsDone) ? repsDone : reps} run(s) per client and link, order rotated per repetition; every stored object's size checked and its bytes read back (over a second, unshaped veth) once per client and link. The browser pages make the engine (or Uppy) when they open, as an app does, and the file is picked ${PICK_MS} ms later (Chute preconnects to its signer meanwhile); the time counts from the upload call. One uncounted warm-up upload (16 MiB) per browser client before the first link. Browser-side CPU per MB: every Chromium process (browser, renderer with its workers, GPU, network service, utilities), read from /proc, from making the engine (or Uppy) to the upload's end, the pick pause included (page load not counted).`,
      ].join(' '),
      figures,
      tables: [
        {
          title: 'Link matrix (MB/s, medians; ratios are Chute ÷ the column)',
          note: `Reproduce: \`${LINK_COMMAND}\`. Goals: Chute ≥ 0.9× the link rate on every link, ≥ 2× stock Uppy at 80 and 150 ms, ≥ 1.0× aws s3 cp on every link.`,
          columns: ['link', 'file', 'link rate', 'Chute', 'stock Uppy', 'aws s3 cp', 'curl -T', 'Chute ÷ link', 'Chute ÷ stock Uppy', 'Chute ÷ aws', 'Chute ÷ curl'],
          rows,
        },
        {
          title: 'Browser-side CPU per MB on the same link (ms of CPU per MB uploaded, medians)',
          note: 'From /proc, per Chromium process type; the store and the delay proxy are shown for scale (on a user\'s machine they are elsewhere). The hash cost is measured alone in the same run (MD5 + CRC64NVME of the same file, part by part, in one worker of the product\'s pool in the Chute page); goal per link: Chute ≤ stock Uppy (which hashes nothing) + that hash cost, the excess is overhead.',
          columns: ['link', 'client', 'MB/s', 'browser', 'renderer (+ workers)', 'GPU', 'network', 'other Chromium', 'browser-side total', 'local-r2', 'delay proxy'],
          rows: cpuRows,
        },
      ],
      extra: {
        command: LINK_COMMAND,
        links: links.map((l) => ({ ...l, rateMBps: linkMBps(l) })),
        ratesMBps: Object.fromEntries(rates),
        proof: Object.fromEntries(proof),
        cpuMsPerMB: Object.fromEntries([...cpu].map(([k, g]) => [k, Object.fromEntries([...g].map(([n, v]) => [n, Number((median(v) ?? 0).toFixed(2))]))])),
        browserCpuMsPerMB: Object.fromEntries([...cpu.keys()].map((k) => [k, Number((browserCpuOf(k) ?? 0).toFixed(2))])),
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


/** Samples the summed resident memory of this bench's Chromium renderers every 100 ms until stopped. */
function rendererRss(names: () => Map<number, string>): { peak(): number; stop(): void } {
  let peak = 0;
  const sample = () => {
    let sum = 0;
    for (const [pid, g] of names()) {
      if (g !== 'chromium renderer') continue;
      try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        sum += Number(kb ?? 0) * 1024;
      } catch {
        // gone
      }
    }
    peak = Math.max(peak, sum);
  };
  const timer = setInterval(sample, 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}


/** Calls `window.bench[fn](opts)` on a fresh page with the file selected; `atEnd` runs as soon as it returns. */
async function runPageFn<T = PageResult>(browser: Browser, url: string, file: string, fn: 'run' | 'hashOnly' | 'prepare', opts: Record<string, unknown>, atEnd: () => void, keepPage = false, atStart?: () => void): Promise<T> {
  const page = keptPage ?? (await browser.context.newPage());
  keptPage = undefined;
  let keep = false;
  try {
    if (page.url() !== url) {
      await page.goto(url);
      await page.waitForFunction(() => 'bench' in window);
      await page.setInputFiles('#file', file);
    }
    atStart?.();
    const r = await page.evaluate(([f, o]) => (window as unknown as { bench: Record<string, (x: unknown) => Promise<T>> }).bench[f as string]?.(o) as Promise<T>, [fn, opts] as const);
    atEnd();
    keep = keepPage;
    return r;
  } finally {
    if (keep) keptPage = page;
    else await page.close();
  }
}
let keptPage: Awaited<ReturnType<Browser['context']['newPage']>> | undefined;

async function runPage(browser: Browser, url: string, file: string, opts: Record<string, unknown>, atEnd: () => void, atStart?: () => void): Promise<PageResult> {
  const page = await browser.context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => 'bench' in window);
    await page.setInputFiles('#file', file);
    atStart?.();
    const r = await page.evaluate((o) => (window as unknown as { bench: { run(x: unknown): Promise<PageResult> } }).bench.run(o), opts);
    atEnd();
    return r;
  } finally {
    await page.close();
  }
}

/** A new connection's first request, then the median of requests on the kept-alive connection. */
async function measureRtt(url: string): Promise<{ firstMs: number; rttMs: number }> {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(performance.now() - t0));
        })
        .on('error', reject);
    });
  try {
    const firstMs = await once();
    const rest: number[] = [];
    for (let i = 0; i < 5; i++) rest.push(await once());
    return { firstMs, rttMs: median(rest) ?? 0 };
  } finally {
    agent.destroy();
  }
}
