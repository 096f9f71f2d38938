// Fuzz: generated malformed requests against local-r2 and the signer API. Expectation: no
// response ≥ 500, no crash, every rejection carries a stable error code, nothing stored is harmed.
// Full setting (issue #6): CHUTE_FUZZ_N=10000. CI default: 1500 per target.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ERROR_CODES } from '@chute/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/net/fault-proxy.js';
import { ChuteClient } from './lib/chute-client.js';
import { type GeneratedRequest, generateS3Request, rawGarbage } from './lib/fuzz-s3.js';
import { generateSignerRequest, type SignerFuzzContext } from './lib/fuzz-signer.js';
import { queryString } from './lib/sigv4.js';
import { pool, send, sendRaw } from './lib/send.js';
import { BUCKET, CREDS, type Stack, startStack } from './lib/stack.js';

const N = Number(process.env.CHUTE_FUZZ_N ?? 1500);

function describeRequest(g: GeneratedRequest): string {
  const qs = queryString(g.query);
  const h = Object.entries(g.headers)
    .filter(([k]) => k !== 'authorization' && k !== 'x-amz-date' && k !== 'host')
    .map(([k, v]) => `${k}: ${v.slice(0, 60)}`)
    .join('; ');
  return `${g.kind} ${g.method} ${g.path.slice(0, 100)}?${qs.slice(0, 200)} [${h}] body ${JSON.stringify(g.body?.subarray(0, 80).toString('latin1') ?? '')} (${g.body?.length ?? 0} B)`;
}
const SEED = Number(process.env.CHUTE_FUZZ_SEED ?? 20261125);
const CONCURRENCY = 8;

let stack: Stack;
const sentinel = randomBytes(300_000);
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

async function sentinelIntact(): Promise<boolean> {
  const got = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sentinel/object.bin' }));
  return md5(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()) === md5(sentinel);
}

beforeAll(async () => {
  stack = await startStack({ users: 3 });
  await stack.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sentinel/object.bin', Body: sentinel }));
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('fuzz', () => {
  it(`local-r2: ${N} generated malformed requests → no 5xx, no crash, every rejection has a <Code>`, async () => {
    const base = new URL(stack.r2.url);
    const uploads: { key: string; uploadId: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const key = `fuzz/mpu-${i}`;
      const res = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      uploads.push({ key, uploadId: res.UploadId as string });
    }
    const ctx = { host: base.host, bucket: BUCKET, ...CREDS, uploads };
    const rand = seededRandom(SEED);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const codes = new Map<string, number>();
    const statuses = new Map<number, number>();
    const violations: string[] = [];
    let closed = 0;
    let unsendable = 0;
    let raw = 0;
    let notImplemented = 0;
    const closedSamples: string[] = [];
    // Generate sequentially (deterministic for a seed), send concurrently.
    const reqs: ({ raw: Buffer } | GeneratedRequest)[] = [];
    for (let i = 0; i < N; i++) reqs.push(rand() < 0.05 ? { raw: rawGarbage(rand, base.host) } : await generateS3Request(rand, ctx));
    // What was in flight when (if) the server died, for the failure message.
    const inflight = new Map<number, string>();
    let atDeath: string[] = [];
    stack.r2.child.once('exit', () => {
      atDeath = [...inflight.values()];
    });
    const t0 = performance.now();
    await pool(N, CONCURRENCY, async (i) => {
      const g = reqs[i];
      if (!g) return;
      inflight.set(i, 'raw' in g ? `raw ${JSON.stringify(g.raw.toString('latin1').slice(0, 200))}` : describeRequest(g));
      try {
        await sendOne(g);
      } finally {
        inflight.delete(i);
      }
    });
    async function sendOne(g: { raw: Buffer } | GeneratedRequest) {
      if ('raw' in g) {
        raw++;
        const status = await sendRaw(base, g.raw);
        if (status >= 500) violations.push(`raw request → ${status}`);
        return;
      }
      const qs = queryString(g.query);
      const res = await send(base, { method: g.method, path: qs ? `${g.path}?${qs}` : g.path, headers: g.headers, ...(g.body ? { body: g.body } : {}) }, agent);
      if (res.unsendable) return void unsendable++;
      if (res.timedOut) return void violations.push(`${g.kind} ${g.method} ${g.path.slice(0, 80)}?${qs.slice(0, 80)} → no answer in 10 s`);
      if (res.closed) {
        if (closedSamples.length < 5) closedSamples.push(`${g.kind} ${g.method} ${g.path.slice(0, 50)}?${qs.slice(0, 50)} [${Object.keys(g.headers).join(',')}] body ${g.body?.length ?? 0} B: ${res.body.slice(0, 60)}`);
        return void closed++;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      // 501 NotImplemented is R2's own answer for operations it lacks (acl, tagging, versioning,
      // CopyObject): counted and reported apart, not a failure of the server.
      if (res.status === 501 && (g.method === 'HEAD' || res.body.includes('<Code>NotImplemented</Code>'))) notImplemented++;
      else if (res.status >= 500) violations.push(`${g.kind} ${g.method} ${g.path.slice(0, 80)}?${qs.slice(0, 80)} → ${res.status} ${res.body.slice(0, 200)}`);
      if (res.status >= 400 && g.method !== 'HEAD') {
        const code = /<Code>([A-Za-z0-9.]+)<\/Code>/.exec(res.body)?.[1];
        if (!code) violations.push(`${g.kind} ${g.method} ${g.path.slice(0, 80)} → ${res.status} without <Code>: ${res.body.slice(0, 120)}`);
        else codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    agent.destroy();
    console.log(
      `[fuzz] local-r2: ${N} requests (${raw} raw HTTP garbage) in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `codes ${JSON.stringify(Object.fromEntries(codes))}; closed without answer ${closed}; unsendable ${unsendable}; 501 NotImplemented ${notImplemented}; violations ${violations.length}; closed e.g. ${JSON.stringify(closedSamples)}`,
    );
    expect(violations.slice(0, 20)).toEqual([]);
    expect(
      stack.r2.child.exitCode,
      `local-r2 died; requests in flight:\n${atDeath.join('\n')}\nits last output:\n${stack.r2.output().slice(-3000)}`,
    ).toBeNull();
    expect(await sentinelIntact()).toBe(true);
    const list = await stack.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sentinel/' }));
    expect(list.KeyCount).toBe(1);
  }, 600_000);

  it(`signer: ${N} generated malformed API requests → no 5xx, no crash, every rejection has a code from the protocol table`, async () => {
    // Independent of the local-r2 test above: if the store died there, start it again.
    if (stack.r2.child.exitCode !== null || stack.r2.child.signalCode !== null) await stack.restartR2();
    const base = new URL(stack.signer.url);
    const uploads: SignerFuzzContext['uploads'] = [];
    for (const [owner, u] of stack.users.slice(0, 2).entries()) {
      const client = new ChuteClient({ signerUrl: stack.signer.url, authToken: u.token });
      for (let i = 0; i < 2; i++) {
        const up = await client.createMultipart(`fuzz-${i}.bin`, 12 * 1024 * 1024);
        uploads.push({ owner, uploadId: up.uploadId, token: up.token, key: up.key });
      }
    }
    const rand = seededRandom(SEED + 1);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const known = new Set<string>(ERROR_CODES);
    const codes = new Map<string, number>();
    const statuses = new Map<number, number>();
    const violations: string[] = [];
    let closed = 0;
    let unsendable = 0;
    const reqs = Array.from({ length: N }, () => generateSignerRequest(rand, { users: stack.users, uploads }));
    const slow: string[] = [];
    const t0 = performance.now();
    await pool(N, CONCURRENCY, async (i) => {
      const g = reqs[i];
      if (!g) return;
      const t = performance.now();
      const res = await send(base, g, agent);
      const ms = performance.now() - t;
      if (ms > 2000) slow.push(`${g.method} ${g.path.slice(0, 60)} body ${g.body?.length ?? 0} B: ${(ms / 1000).toFixed(1)} s → ${res.status || 'closed'}`);
      const where = `${g.method} ${g.path.slice(0, 100)}`;
      if (res.unsendable) return void unsendable++;
      if (res.timedOut) return void violations.push(`${where} (body ${g.body?.length ?? 0} B) → no answer in 10 s`);
      if (res.closed) return void closed++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) violations.push(`${where} → ${res.status} ${res.body.slice(0, 200)}`);
      // Outside /api/ is the host app's (here: Express's default 404); only the 5xx rule applies.
      if (res.status >= 400 && g.method !== 'HEAD' && g.path.startsWith('/api/')) {
        let code: unknown;
        let message: unknown;
        if (res.body.startsWith('<?xml')) {
          // Stock-Uppy S3 endpoints answer in S3's XML shape (Uppy parses it) with the same codes.
          code = /<Code>([^<]+)<\/Code>/.exec(res.body)?.[1];
          message = /<Message>([^<]+)<\/Message>/.exec(res.body)?.[1];
        } else {
          try {
            const j = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
            code = j.error?.code;
            message = j.error?.message;
          } catch {
            // not JSON: reported below
          }
        }
        if (typeof code !== 'string' || !known.has(code) || typeof message !== 'string' || message.length === 0) {
          violations.push(`${where} → ${res.status} without a protocol error code: ${res.body.slice(0, 160)}`);
        } else codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    agent.destroy();
    console.log(
      `[fuzz] signer: ${N} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `codes ${JSON.stringify(Object.fromEntries(codes))}; closed without answer ${closed}; unsendable ${unsendable}; violations ${violations.length}; slow (> 2 s) ${JSON.stringify(slow)}`,
    );
    // Grouped, so a report names each distinct problem once.
    const kinds = new Map<string, number>();
    for (const v of violations) {
      const k = v.replace(/\/api\/uploads\/[^/ ]+/, '/api/uploads/:id').replace(/\?\S*/, '').replace(/\{.*$/, '').slice(0, 140);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    if (kinds.size > 0) console.log(`[fuzz] signer violations by kind: ${JSON.stringify(Object.fromEntries(kinds), null, 1)}`);
    expect(violations.slice(0, 20)).toEqual([]);
    expect(stack.signer.child.exitCode, `the signer died; its last output:\n${stack.signer.output().slice(-3000)}`).toBeNull();
    // Still serving: a normal upload goes through end to end and reads back identical.
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const client = new ChuteClient({ signerUrl: stack.signer.url, authToken: stack.users[2]?.token as string });
    const done = await client.upload('after-fuzz.bin', data);
    const got = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: done.key }));
    expect(md5(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toBe(md5(data));
    expect(await sentinelIntact()).toBe(true);
  }, 600_000);
});
