// One-off comparison (not part of `pnpm test`): the same requests, one at a time, against
// chute-server (Node + Express) and the Worker (workerd via miniflare), on one local-r2.
//   npx tsx --conditions=source apps/worker/test/latency.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalR2 } from '@chute/local-r2';
import { startCli } from '../../server/test/cli.js';
import { startWorker } from './start.js';

const dir = await mkdtemp(join(tmpdir(), 'chute-worker-latency-'));
const r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: ['latency'], sweepIntervalMs: 0, onError: () => {} });
const vars = {
  S3_ENDPOINT: r2.endpoint,
  S3_BUCKET: 'latency',
  S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
  S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
  S3_FORCE_PATH_STYLE: 'true',
  TOKEN_SECRETS: 'latency-token-secret-0123456789abcdef',
  AUTH_MODE: 'tokens',
  AUTH_TOKENS: 'alice-token-0123456789:alice',
  RATE_LIMIT_CAPACITY: '0',
  MAX_OPEN_UPLOADS: '0',
  MAX_BYTES_PER_DAY: '0',
};
let t = performance.now();
const worker = await startWorker({ vars, durableLimits: process.env.NO_DO !== '1' });
const workerStart = performance.now() - t;
t = performance.now();
const server = await startCli({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...vars });
const serverStart = performance.now() - t;
const headers = { authorization: 'Bearer alice-token-0123456789', 'content-type': 'application/json' };
const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(JSON.stringify(json));
  return json;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function measure(base: string) {
  const times: Record<string, number[]> = { 'create (multipart: CreateMultipartUpload)': [], 'sign 1 part': [], 'sign 1,000 parts (template)': [] };
  const md5 = '1B2M2Y8AsgTpgAmY7PhCfg==';
  const partsOf = (c: Record<string, unknown>) => `${base}/api/uploads/${encodeURIComponent(c.uploadId as string)}/parts`;
  for (let i = 0; i < 60; i++) {
    let s = performance.now();
    const c = await post(`${base}/api/uploads`, { name: 'x.bin', size: 64 * 2 ** 20 });
    (times['create (multipart: CreateMultipartUpload)'] as number[]).push(performance.now() - s);
    s = performance.now();
    await post(partsOf(c), { token: c.token, parts: [{ partNumber: 1, md5 }] });
    (times['sign 1 part'] as number[]).push(performance.now() - s);
    const big = await post(`${base}/api/uploads`, { name: 'big.bin', size: 5 * 2 ** 30, partSize: 5 * 2 ** 20 });
    s = performance.now();
    await post(partsOf(big), { token: big.token, format: 'template', parts: Array.from({ length: 1000 }, (_, n) => ({ partNumber: n + 1, md5 })) });
    (times['sign 1,000 parts (template)'] as number[]).push(performance.now() - s);
  }
  // The first 10 of each are warm-up (JIT).
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v.slice(10))]));
}

const a = await measure(server.url);
const b = await measure(worker.url);
console.log(`start: chute-server ${serverStart.toFixed(0)} ms, Worker (bundle + workerd) ${workerStart.toFixed(0)} ms`);
console.log('| request (median of 50, sequential) | chute-server | Worker (workerd) |\n| --- | --- | --- |');
for (const k of Object.keys(a)) console.log(`| ${k} | ${(a[k] as number).toFixed(1)} ms | ${(b[k] as number).toFixed(1)} ms |`);
await server.stop();
await worker.close();
await r2.close();
await rm(dir, { recursive: true, force: true });
