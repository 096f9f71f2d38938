// Signer benchmark: Chute's signer vs @uppy/companion 6 (same local-r2, same machine, same run).
//   npx tsx --conditions=source packages/signer/bench/signer-bench.ts [--quick]
// Figures: one batch of 10,000 part URLs (Chute; target ≤ 100 ms), and single sign-part requests
// at 200 concurrent connections for both (throughput, p50, p99; target ≥ 3× Companion, p99 ≤ 10 ms).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalR2 } from '@chute/local-r2';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BUCKET = 'bench';
const TOKEN = 'bench-token-0123456789';
const MD5 = '1B2M2Y8AsgTpgAEY7ZEcRw==';

interface Reply {
  status: number;
  body: string;
}

function http(agent: Agent, url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, agent, headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

function spawnServer(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((ok, fail) => {
    const on = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        proc.stdout?.off('data', on);
        proc.stdout?.resume();
        proc.stderr?.resume();
        ok({ proc, port: Number(m[1]) });
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => fail(new Error(`server exited with ${code}: ${out.slice(-2000)}`)));
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/** `concurrency` workers send `make()` requests back to back for `ms`; returns req/s and latency percentiles. */
async function load(agent: Agent, make: () => Promise<Reply>, concurrency: number, ms: number) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const r = await make().catch(() => ({ status: 0, body: '' }));
        if (r.status !== 200) errors++;
        else latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { requests: latencies.length, errors, perSecond: Math.round((latencies.length / ms) * 1000), p50Ms: round(pct(50)), p99Ms: round(pct(99)) };
}

/**
 * Open loop: `connections` keep-alive connections, requests started at a fixed total `rate` (req/s)
 * whatever the answers do, latency counted from each request's scheduled start (so a slow server
 * cannot hide its queue). This is the latency a client sees at that load; a closed loop at full
 * throughput only measures the queue (latency ≈ connections ÷ throughput).
 */
async function openLoop(make: (agent: Agent) => Promise<Reply>, connections: number, rate: number, ms: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  try {
    await Promise.all(Array.from({ length: connections }, () => make(agent).catch(() => undefined))); // open every connection
    const latencies: number[] = [];
    let errors = 0;
    const pending: Promise<void>[] = [];
    const start = performance.now();
    const total = Math.round((rate * ms) / 1000);
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        make(agent).then(
          (r) => {
            if (r.status === 200) latencies.push(performance.now() - due);
            else errors++;
          },
          () => {
            errors++;
          },
        ),
      );
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
    return { connections, rate: Math.round(rate), requests: latencies.length, errors, p50Ms: round(pct(50)), p99Ms: round(pct(99)) };
  } finally {
    agent.destroy();
  }
}

/** Share of each server's measured capacity the open-loop run offers (default half). */
const OPEN_LOOP_LOAD = Number(process.env.CHUTE_SIGNER_OPEN_LOAD ?? 0.5);

/** CPU time (user + system) a process has used so far, ms. */
async function cpuMs(pid: number | undefined): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
}

/** The signer's CPU per single-PUT URL when many small files are created at once. */
async function createsCpu(agent: Agent, chuteUrl: string, companionUrl: string, auth: Record<string, string>, chutePid: number | undefined, companionPid: number | undefined, files: number) {
  const batch = 20; // about what @chute/uploader's batcher sends while a call is out on an 80 ms link
  const chuteCall = (rep: number, b: number) =>
    http(agent, `${chuteUrl}/api/uploads/batch`, 'POST', JSON.stringify({
      files: Array.from({ length: batch }, (_, i) => ({ name: `f-${rep}-${b}-${i}.bin`, type: 'application/octet-stream', size: 262144, multipart: false, checksumAlgorithm: 'CRC64NVME', md5: MD5 })),
    }), auth).then((r) => {
      if (r.status !== 200 || JSON.parse(r.body).results.some((x: { upload?: unknown }) => !x.upload)) throw new Error(`batch create failed: ${r.status} ${r.body.slice(0, 300)}`);
    });
  // Companion signs one single PUT per request (GET /s3/params, what @uppy/aws-s3 calls per small file).
  const companionCall = (rep: number, i: number) =>
    http(agent, `${companionUrl}/s3/params?filename=${encodeURIComponent(`f-${rep}-${i}.bin`)}&type=application%2Foctet-stream`, 'GET').then((r) => {
      if (r.status !== 200 || !JSON.parse(r.body).url) throw new Error(`companion params failed: ${r.status} ${r.body.slice(0, 300)}`);
    });
  const measure = async (pid: number | undefined, run: (rep: number) => Promise<void>) => {
    await run(0); // warm-up
    const c0 = await cpuMs(pid);
    const t0 = performance.now();
    for (let rep = 1; rep <= 3; rep++) await run(rep);
    return { cpuMsPerFile: round(((await cpuMs(pid)) - c0) / (3 * files)), wallMsPerFile: round((performance.now() - t0) / (3 * files)) };
  };
  // Four calls out at once, as several tabs or users would have.
  const chute = await measure(chutePid, async (r) => {
    for (let b = 0; b < files / batch; b += 4) await Promise.all([0, 1, 2, 3].filter((k) => b + k < files / batch).map((k) => chuteCall(r, b + k)));
  });
  const companion = await measure(companionPid, async (r) => {
    for (let i = 0; i < files; i += 4) await Promise.all([0, 1, 2, 3].map((k) => companionCall(r, i + k)));
  });
  return { files, batch, chute, companion, ratio: round(companion.cpuMsPerFile / Math.max(0.001, chute.cpuMsPerFile)) };
}

const round = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchSigner(options: { quick: boolean; workDir?: string }) {
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'signer-bench-'));
  const r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {} });
  const procs: ChildProcess[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  try {
    const chute = await spawnServer(
      ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./signer-host.ts', import.meta.url))],
      { R2_ENDPOINT: r2.endpoint, R2_KEY: r2.credentials.accessKeyId, R2_SECRET: r2.credentials.secretAccessKey, BUCKET },
      /listening (\d+)/,
    );
    procs.push(chute.proc);
    const cport = await freePort();
    const companionBin = fileURLToPath(new URL('../node_modules/@uppy/companion/bin/companion', import.meta.url));
    const companion = await spawnServer(
      [companionBin],
      {
        NODE_ENV: 'production',
        COMPANION_SECRET: randomBytes(16).toString('hex'),
        COMPANION_PREAUTH_SECRET: randomBytes(16).toString('hex'),
        COMPANION_DOMAIN: `127.0.0.1:${cport}`,
        COMPANION_PROTOCOL: 'http',
        COMPANION_PORT: String(cport),
        COMPANION_DATADIR: dir,
        COMPANION_CLIENT_ORIGINS: 'http://127.0.0.1',
        COMPANION_UPLOAD_URLS: 'http://127\\.0\\.0\\.1:.*',
        COMPANION_AWS_KEY: r2.credentials.accessKeyId,
        COMPANION_AWS_SECRET: r2.credentials.secretAccessKey,
        COMPANION_AWS_BUCKET: BUCKET,
        COMPANION_AWS_REGION: 'auto',
        COMPANION_AWS_ENDPOINT: r2.endpoint,
        COMPANION_AWS_FORCE_PATH_STYLE: 'true',
      },
      /(?:listening|Listening|port)\D*(\d{4,5})/,
    ).catch(async () => {
      // Companion's banner varies; fall back to polling its port.
      throw new Error('companion did not start');
    });
    procs.push(companion.proc);
    const chuteUrl = `http://127.0.0.1:${chute.port}`;
    const companionUrl = `http://127.0.0.1:${cport}`;
    const auth = { authorization: `Bearer ${TOKEN}` };

    // Chute: one multipart upload of 10,000 × 5 MiB parts, then batches.
    const created = JSON.parse((await http(agent, `${chuteUrl}/api/uploads`, 'POST', JSON.stringify({ name: 'big.bin', size: 10_000 * 5 * 2 ** 20, partSize: 5 * 2 ** 20 }), auth)).body);
    const id = encodeURIComponent(created.uploadId);
    // A sign request holds at most 1,000 parts (MAX_PARTS_PER_SIGN_REQUEST): all 10,000 are ten
    // requests of 1,000, sent at once.
    const slices = Array.from({ length: 10 }, (_, s) => ({ token: created.token, parts: Array.from({ length: 1000 }, (_, i) => ({ partNumber: s * 1000 + i + 1, md5: MD5 })) }));
    const all = slices.map((b) => JSON.stringify(b));
    // Both answer formats, alternating: a URL per part, and the compact template (what @chute/uploader asks for).
    const compactBody = slices.map((b) => JSON.stringify({ ...b, format: 'template' }));
    const batchMs: number[] = [];
    const templateMs: number[] = [];
    const answerBytes = { urls: 0, template: 0 };
    for (let i = 0; i < (options.quick ? 3 : 7); i++) {
      for (const [body, into, format] of [
        [all, batchMs, 'urls'],
        [compactBody, templateMs, 'template'],
      ] as const) {
        const t0 = performance.now();
        const rs = await Promise.all(body.map((b) => http(agent, `${chuteUrl}/api/uploads/${id}/parts`, 'POST', b, auth)));
        into.push(performance.now() - t0);
        let bytes = 0;
        for (const r of rs) {
          const parsed = r.status === 200 ? JSON.parse(r.body) : undefined;
          if (!parsed || parsed.parts.length !== 1000 || (format === 'template') !== 'template' in parsed) {
            throw new Error(`batch (${format}) failed: ${r.status} ${r.body.slice(0, 300)}`);
          }
          bytes += r.body.length;
        }
        answerBytes[format] = bytes;
      }
    }

    const creates = await createsCpu(agent, chuteUrl, companionUrl, auth, chute.proc.pid, companion.proc.pid, options.quick ? 200 : 1000);

    // Companion: its own multipart upload, then single part signing.
    const cu = await http(agent, `${companionUrl}/s3/multipart`, 'POST', JSON.stringify({ filename: 'big.bin', type: 'application/octet-stream', metadata: {} }));
    if (cu.status !== 200) throw new Error(`companion create failed: ${cu.status} ${cu.body}`);
    const cup = JSON.parse(cu.body) as { key: string; uploadId: string };
    const companionPath = `${companionUrl}/s3/multipart/${encodeURIComponent(cup.uploadId)}/1?key=${encodeURIComponent(cup.key)}`;
    const chuteBody = JSON.stringify({ token: created.token, parts: [{ partNumber: 1, md5: MD5 }] });
    const ms = options.quick ? 2000 : 5000;
    // Warm up both, then measure each alone (so they do not compete for the 2 cores).
    await load(agent, () => http(agent, `${chuteUrl}/api/uploads/${id}/parts`, 'POST', chuteBody, auth), 50, 500);
    await load(agent, () => http(agent, companionPath, 'GET'), 50, 500);
    const chuteSingle = await load(agent, () => http(agent, `${chuteUrl}/api/uploads/${id}/parts`, 'POST', chuteBody, auth), 200, ms);
    const companionSingle = await load(agent, () => http(agent, companionPath, 'GET'), 200, ms);
    // One request at a time: the service time itself (at 200 in flight, latency is queueing: 200 / throughput).
    const chuteSerial = await load(agent, () => http(agent, `${chuteUrl}/api/uploads/${id}/parts`, 'POST', chuteBody, auth), 1, ms / 2);
    const companionSerial = await load(agent, () => http(agent, companionPath, 'GET'), 1, ms / 2);
    // The same single sign-part call at half of each server's measured capacity, open loop over 200 connections.
    const chuteOpen = await openLoop((a) => http(a, `${chuteUrl}/api/uploads/${id}/parts`, 'POST', chuteBody, auth), 200, chuteSingle.perSecond * OPEN_LOOP_LOAD, ms);
    const companionOpen = await openLoop((a) => http(a, companionPath, 'GET'), 200, companionSingle.perSecond * OPEN_LOOP_LOAD, ms);
    return {
      batch10000: { medianMs: round(median(batchMs)), runsMs: batchMs.map(round), answerBytes: answerBytes.urls, targetMs: 100 },
      batch10000Template: { medianMs: round(median(templateMs)), runsMs: templateMs.map(round), answerBytes: answerBytes.template, targetMs: 100 },
      creates,
      singleSign200: { chute: chuteSingle, companion: companionSingle, ratio: round(chuteSingle.perSecond / Math.max(1, companionSingle.perSecond)), target: '≥ 3× companion, p99 ≤ 10 ms' },
      singleSign1: { chute: chuteSerial, companion: companionSerial },
      openLoop200: { load: OPEN_LOOP_LOAD, chute: chuteOpen, companion: companionOpen },
      loadAverage: (await import('node:os')).loadavg().map(round),
      command: 'npx tsx --conditions=source packages/signer/bench/signer-bench.ts',
    };
  } finally {
    agent.destroy();
    for (const p of procs) p.kill('SIGKILL');
    await r2.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchSigner({ quick: process.argv.includes('--quick') }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
