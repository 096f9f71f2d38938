// Growth in part count (part of `pnpm bench --growth`): what the signer spends on a 10,000-part
// upload — signing every part URL in the batches @chute/uploader asks for (20 parts a request,
// each part's Content-MD5 as the engine sends it for a CRC64NVME upload — one checksum per part
// request, the signer refuses md5 + checksum together because R2 refuses two — and the compact
// 'template' answer), and the complete: chute-server lists
// the parts (10 ListParts pages), checks them (count, sizes, the client's ETags), sends
// CompleteMultipartUpload with every part, then HeadObject to verify.
//
// Both run against the real chute-server process on loopback. A store with 10,000 real parts
// needs 50 GiB (R2's rules, which local-r2 enforces and the signer checks: every part but the last
// ≥ 5 MiB and all the same size), so the 1,000- and 10,000-part completes go through a stand-in in
// front of local-r2: it forwards everything to local-r2 except the ListParts, CompleteMultipart-
// Upload and HeadObject of those uploads, which it answers itself with consistent parts (ETags,
// sizes, the MD5-of-MD5s ETag, the full-object CRC64NVME echoed); its own handling time is measured
// and reported. The real path — chute-server + local-r2 with the parts really stored — is measured
// at 1,000 parts × 5 MiB (5 GiB written; CHUTE_BENCH_GROWTH_REAL_PARTS).
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { expandSignedParts, type SignPartsTemplateResponse } from '@chute/protocol';
import { crc64CombineAll, crc64ToBase64, CRC64NVME_HASH_WASM_POLY } from '@chute/uploader';
import { crc64 } from 'hash-wasm';
import { type Service, startLocalR2Process } from '../../reliability/lib/services.js';
import { startSignerProcess } from '../../reliability/lib/signer-process.js';
import { median } from '../report.js';

const BUCKET = 'bench';
const CREDS = { accessKeyId: 'chute-bench', secretAccessKey: 'chute-bench-secret-key-0123456789' };
const TOKEN = 'bench-user-token';
const PART = 5 * 1024 * 1024;
/** What @chute/uploader asks per sign call (defaultEngineOptions.signBatchSize). */
export const UPLOADER_SIGN_BATCH = 20;

interface Reply {
  status: number;
  body: string;
}

function http(agent: Agent, url: string, method: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, agent, headers: { ...(body && typeof body === 'string' ? { 'content-type': 'application/json' } : {}), ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

interface Synthetic {
  key: string;
  count: number;
  etag: string; // hex MD5 of each part (all parts hold the same bytes)
  crc: string; // base64 CRC64NVME of each part
  size: number;
  completed?: { etag: string; checksum?: string };
}

/** Per complete through the stand-in: what the signer sent and what answering it cost the stand-in. */
interface StandInLog {
  listPages: number;
  listMs: number;
  completeBodyBytes: number;
  completeParts: number;
  completeMs: number;
  headMs: number;
}

/** HTTP stand-in in front of local-r2 (see the file comment). */
async function startStandIn(target: string) {
  const t = new URL(target);
  const uploads = new Map<string, Synthetic>(); // uploadId → parts
  const byKey = new Map<string, Synthetic>();
  let log: StandInLog = { listPages: 0, listMs: 0, completeBodyBytes: 0, completeParts: 0, completeMs: 0, headMs: 0 };
  const xml = (res: ServerResponse, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  };
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const t0 = performance.now();
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', 'http://x');
      const uploadId = u.searchParams.get('uploadId');
      const syn = uploadId ? uploads.get(uploadId) : undefined;
      const key = decodeURIComponent(u.pathname.slice(`/${BUCKET}/`.length));
      if (syn && req.method === 'GET') {
        const marker = Number(u.searchParams.get('part-number-marker') ?? 0);
        const max = Math.min(1000, Number(u.searchParams.get('max-parts') ?? 1000));
        const last = Math.min(syn.count, marker + max);
        const parts: string[] = [];
        const now = new Date().toISOString();
        for (let n = marker + 1; n <= last; n++) {
          parts.push(`<Part><PartNumber>${n}</PartNumber><LastModified>${now}</LastModified><ETag>"${syn.etag}"</ETag><Size>${n === syn.count ? syn.size - (syn.count - 1) * PART : PART}</Size><ChecksumCRC64NVME>${syn.crc}</ChecksumCRC64NVME></Part>`);
        }
        xml(
          res,
          `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${BUCKET}</Bucket><Key>${syn.key}</Key><UploadId>${uploadId}</UploadId><PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${last}</NextPartNumberMarker><MaxParts>${max}</MaxParts><IsTruncated>${last < syn.count}</IsTruncated><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>${parts.join('')}</ListPartsResult>`,
        );
        log.listPages++;
        log.listMs += performance.now() - t0;
        return;
      }
      if (syn && req.method === 'POST') {
        // Every part the signer names must be one of ours, in order, with its ETag.
        const text = body.toString('utf8');
        let n = 0;
        for (const m of text.matchAll(/<Part>(.*?)<\/Part>/gs)) {
          const num = /<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] ?? '')?.[1];
          const tag = /<ETag>(?:&quot;|")?([0-9a-f]{32})(?:&quot;|")?<\/ETag>/.exec(m[1] ?? '')?.[1];
          if (Number(num) !== ++n || tag !== syn.etag) n = -1e9;
        }
        if (n !== syn.count) {
          res.writeHead(400, { 'content-type': 'application/xml' });
          res.end(`<Error><Code>InvalidPart</Code><Message>stand-in: ${n} parts matched of ${syn.count}</Message></Error>`);
          return;
        }
        const md5s = createHash('md5');
        const one = Buffer.from(syn.etag, 'hex');
        for (let i = 0; i < syn.count; i++) md5s.update(one);
        const etag = `${md5s.digest('hex')}-${syn.count}`;
        const sent = req.headers['x-amz-checksum-crc64nvme'];
        syn.completed = { etag, ...(typeof sent === 'string' ? { checksum: sent } : {}) };
        byKey.set(syn.key, syn);
        uploads.delete(uploadId as string);
        xml(
          res,
          `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>/${BUCKET}/${syn.key}</Location><Bucket>${BUCKET}</Bucket><Key>${syn.key}</Key><ETag>"${etag}"</ETag>${syn.completed.checksum ? `<ChecksumCRC64NVME>${syn.completed.checksum}</ChecksumCRC64NVME><ChecksumType>FULL_OBJECT</ChecksumType>` : ''}</CompleteMultipartUploadResult>`,
          syn.completed.checksum ? { 'x-amz-checksum-type': 'FULL_OBJECT' } : {},
        );
        log.completeBodyBytes = body.length;
        log.completeParts = n;
        log.completeMs = performance.now() - t0;
        return;
      }
      const done = byKey.get(key);
      if (done?.completed && req.method === 'HEAD' && !uploadId) {
        res.writeHead(200, {
          'content-length': String(done.size),
          etag: `"${done.completed.etag}"`,
          'content-type': 'application/octet-stream',
          'last-modified': new Date().toUTCString(),
          ...(done.completed.checksum ? { 'x-amz-checksum-crc64nvme': done.completed.checksum, 'x-amz-checksum-type': 'FULL_OBJECT' } : {}),
        });
        res.end();
        log.headMs = performance.now() - t0;
        return;
      }
      forward(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    register(uploadId: string, s: Synthetic) {
      uploads.set(uploadId, s);
    },
    takeLog(): StandInLog {
      const l = log;
      log = { listPages: 0, listMs: 0, completeBodyBytes: 0, completeParts: 0, completeMs: 0, headMs: 0 };
      return l;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Created {
  uploadId: string;
  key: string;
  token: string;
  partCount: number;
  partSize: number;
}

/** Signs every part in batches of `batch`, one call at a time (the uploader's sign-ahead sends them one by one). */
async function signAll(agent: Agent, signer: string, up: Created, md5: string, batch: number) {
  const calls: number[] = [];
  const signed: SignPartsTemplateResponse[] = [];
  let answerBytes = 0;
  const t0 = performance.now();
  for (let from = 1; from <= up.partCount; from += batch) {
    const parts = [];
    for (let n = from; n < from + batch && n <= up.partCount; n++) parts.push({ partNumber: n, md5 });
    const c0 = performance.now();
    const r = await http(agent, `${signer}/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, 'POST', JSON.stringify({ token: up.token, parts, format: 'template' }), { authorization: `Bearer ${TOKEN}` });
    calls.push(performance.now() - c0);
    if (r.status !== 200) throw new Error(`sign parts ${from}…: ${r.status} ${r.body.slice(0, 300)}`);
    answerBytes += r.body.length;
    signed.push(JSON.parse(r.body) as SignPartsTemplateResponse);
  }
  return { ms: performance.now() - t0, calls, answerBytes, signed };
}

async function create(agent: Agent, signer: string, count: number, tag: string): Promise<Created> {
  const r = await http(agent, `${signer}/api/uploads`, 'POST', JSON.stringify({ name: `${tag}.bin`, size: count * PART, partSize: PART, multipart: true, checksumAlgorithm: 'CRC64NVME' }), { authorization: `Bearer ${TOKEN}` });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create: ${r.status} ${r.body.slice(0, 300)}`);
  const c = JSON.parse(r.body) as Created & { type: string };
  if (c.partCount !== count) throw new Error(`create: ${c.partCount} parts, expected ${count}`);
  return c;
}

async function complete(agent: Agent, signer: string, up: Created, etag: string, full: string) {
  const body = JSON.stringify({ token: up.token, parts: Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, etag: `"${etag}"` })), checksum: full });
  const t0 = performance.now();
  const r = await http(agent, `${signer}/api/uploads/${encodeURIComponent(up.uploadId)}/complete`, 'POST', body, { authorization: `Bearer ${TOKEN}` });
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`complete: ${r.status} ${r.body.slice(0, 400)}`);
  const out = JSON.parse(r.body) as { verification?: { level?: string }; size: number };
  if (out.size !== up.partCount * PART) throw new Error(`complete: size ${out.size}`);
  return { ms, requestBytes: Buffer.byteLength(body), verification: out.verification?.level ?? 'none' };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

export interface ManyPartsResult {
  partBytes: number;
  signBatch: number;
  /** By part count: signing every part URL, 20 a call, one call at a time (medians of reps). */
  sign: Record<string, { totalMs: number; msPer1000: number; callMedianMs: number; calls: number; answerBytes: number; runsMs: number[] }>;
  /** By part count, through the stand-in store (see the file comment). */
  completeStandIn: Record<string, { ms: number; msPer1000: number; runsMs: number[]; clientRequestBytes: number; storeRequestBytes: number; listPages: number; standInMs: number; verification: string }>;
  /** chute-server + local-r2 with the parts really stored. */
  completeReal?: { parts: number; ms: number; msPer1000: number; runsMs: number[]; clientRequestBytes: number; putSeconds: number; verification: string };
  reps: number;
}

export async function benchManyParts(o: { quick: boolean; workDir: string; log: (s: string) => void }): Promise<ManyPartsResult> {
  const counts = o.quick ? [1000] : [1000, 10_000];
  const reps = Number(process.env.CHUTE_BENCH_GROWTH_PART_REPS ?? 3);
  const realParts = Number(process.env.CHUTE_BENCH_GROWTH_REAL_PARTS ?? (o.quick ? 20 : 1000));
  const dataDir = path.join(o.workDir, 'growth-parts-r2');
  mkdirSync(dataDir, { recursive: true });
  const cleanup: (() => Promise<unknown>)[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const signers: Service[] = [];
  try {
    const r2 = await startLocalR2Process(dataDir, BUCKET, 0, ['--access-key-id', CREDS.accessKeyId, '--secret-access-key', CREDS.secretAccessKey]);
    cleanup.push(() => r2.kill());
    const standIn = await startStandIn(r2.url);
    cleanup.push(() => standIn.close());
    const cfg = { bucket: BUCKET, credentials: CREDS, tokens: { [TOKEN]: 'bench' } };
    // chute-server's default file size limit is 5 GiB and its daily quota 50 GiB per user; 10,000
    // parts of 5 MiB are 50 GiB, several times. The servers inherit this process's environment, so
    // the limits are lifted for them alone (0: no daily limit).
    const before = { MAX_FILE_SIZE: process.env.MAX_FILE_SIZE, MAX_BYTES_PER_DAY: process.env.MAX_BYTES_PER_DAY };
    process.env.MAX_FILE_SIZE = String(64 * 2 ** 30);
    process.env.MAX_BYTES_PER_DAY = '0';
    try {
      const standInSigner = await startSignerProcess({ ...cfg, storeEndpoint: standIn.url });
      cleanup.push(() => standInSigner.kill());
      signers.push(standInSigner);
      const realSigner = await startSignerProcess({ ...cfg, storeEndpoint: r2.url });
      cleanup.push(() => realSigner.kill());
      signers.push(realSigner);
    } finally {
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const [signerStandIn, signerReal] = signers as [Service, Service];

    // Every part holds the same 5 MiB, so one MD5 and one CRC64NVME stand for all of them.
    const bytes = Buffer.alloc(PART);
    for (let i = 0; i < PART; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
    const etag = createHash('md5').update(bytes).digest('hex');
    const md5 = createHash('md5').update(bytes).digest('base64');
    const crcBig = BigInt(`0x${await crc64(bytes, CRC64NVME_HASH_WASM_POLY)}`);
    const crc = crc64ToBase64(crcBig);
    const fullOf = (count: number) => crc64ToBase64(crc64CombineAll(Array.from({ length: count }, () => ({ crc: crcBig, size: PART }))));

    // Warm-up: a small upload signed and completed once (JIT, connections).
    {
      const w = await create(agent, signerStandIn.url, 50, 'warm');
      standIn.register(w.uploadId, { key: w.key, count: 50, etag, crc, size: 50 * PART });
      await signAll(agent, signerStandIn.url, w, md5, UPLOADER_SIGN_BATCH);
      await complete(agent, signerStandIn.url, w, etag, fullOf(50));
      standIn.takeLog();
    }

    const result: ManyPartsResult = { partBytes: PART, signBatch: UPLOADER_SIGN_BATCH, sign: {}, completeStandIn: {}, reps };
    for (const count of counts) {
      const full = fullOf(count);
      const signRuns: { ms: number; calls: number[]; answerBytes: number }[] = [];
      const completeRuns: { ms: number; requestBytes: number; verification: string; log: StandInLog }[] = [];
      for (let rep = 0; rep < reps; rep++) {
        const up = await create(agent, signerStandIn.url, count, `parts-${count}-${rep}`);
        standIn.register(up.uploadId, { key: up.key, count, etag, crc, size: count * PART });
        const s = await signAll(agent, signerStandIn.url, up, md5, UPLOADER_SIGN_BATCH);
        signRuns.push(s);
        const c = await complete(agent, signerStandIn.url, up, etag, full);
        completeRuns.push({ ...c, log: standIn.takeLog() });
        o.log(`${count} parts rep ${rep + 1}/${reps}: signed in ${s.ms.toFixed(0)} ms (${s.calls.length} calls), complete ${c.ms.toFixed(0)} ms (stand-in's own ${((completeRuns.at(-1)?.log.listMs ?? 0) + (completeRuns.at(-1)?.log.completeMs ?? 0)).toFixed(1)} ms, ${c.verification})`);
      }
      const sMs = median(signRuns.map((r) => r.ms)) ?? 0;
      result.sign[String(count)] = {
        totalMs: r1(sMs),
        msPer1000: r1((sMs / count) * 1000),
        callMedianMs: Math.round((median(signRuns.flatMap((r) => r.calls)) ?? 0) * 100) / 100,
        calls: signRuns[0]?.calls.length ?? 0,
        answerBytes: signRuns[0]?.answerBytes ?? 0,
        runsMs: signRuns.map((r) => r1(r.ms)),
      };
      const cMs = median(completeRuns.map((r) => r.ms)) ?? 0;
      const last = completeRuns.at(-1);
      result.completeStandIn[String(count)] = {
        ms: r1(cMs),
        msPer1000: r1((cMs / count) * 1000),
        runsMs: completeRuns.map((r) => r1(r.ms)),
        clientRequestBytes: last?.requestBytes ?? 0,
        storeRequestBytes: last?.log.completeBodyBytes ?? 0,
        listPages: last?.log.listPages ?? 0,
        standInMs: r1(median(completeRuns.map((r) => r.log.listMs + r.log.completeMs + r.log.headMs)) ?? 0),
        verification: last?.verification ?? '',
      };
    }

    // The real path: the parts stored in local-r2 (uploaded from here through the signed URLs).
    if (realParts > 0) {
      const runs: { ms: number; requestBytes: number; verification: string; putMs: number }[] = [];
      const realReps = Math.min(reps, Number(process.env.CHUTE_BENCH_GROWTH_REAL_REPS ?? 1));
      for (let rep = 0; rep < realReps; rep++) {
        const up = await create(agent, signerReal.url, realParts, `real-${realParts}-${rep}`);
        const s = await signAll(agent, signerReal.url, up, md5, UPLOADER_SIGN_BATCH);
        const urls = s.signed.flatMap((x) => expandSignedParts(x).parts);
        const p0 = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            while (next < urls.length) {
              const part = urls[next++];
              if (!part) break;
              const r = await http(agent, part.url, 'PUT', bytes, part.headers);
              if (r.status !== 200) throw new Error(`PUT part ${part.partNumber}: ${r.status} ${r.body.slice(0, 300)}`);
            }
          }),
        );
        const putMs = performance.now() - p0;
        const c = await complete(agent, signerReal.url, up, etag, fullOf(realParts));
        runs.push({ ...c, putMs });
        o.log(`real ${realParts} parts (${((realParts * PART) / 2 ** 30).toFixed(1)} GiB stored in ${(putMs / 1000).toFixed(0)} s): complete ${c.ms.toFixed(0)} ms (${c.verification})`);
      }
      const ms = median(runs.map((r) => r.ms)) ?? 0;
      result.completeReal = {
        parts: realParts,
        ms: r1(ms),
        msPer1000: r1((ms / realParts) * 1000),
        runsMs: runs.map((r) => r1(r.ms)),
        clientRequestBytes: runs[0]?.requestBytes ?? 0,
        putSeconds: r1((runs[0]?.putMs ?? 0) / 1000),
        verification: runs[0]?.verification ?? '',
      };
    }
    return result;
  } finally {
    agent.destroy();
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  }
}
