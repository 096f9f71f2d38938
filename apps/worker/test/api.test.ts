import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, startCli } from '../../server/test/cli.js';
import { uploadThroughApi } from '../../server/test/upload-flow.js';
import { type RunningWorker, startWorker } from './start.js';

// Test responses are loosely typed on purpose.
type Json = any;

// The signer's HTTP API against two deployments of the same core with the same settings:
// chute-server (Express, Node) and the Worker under workerd (miniflare), both on one local-r2.
// Every test runs against both; `same answers` compares them byte for byte.
const BUCKET = 'worker-api';
const TOKENS = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789ab', carol: 'carol-token-0123456789', dave: 'dave-token-0123456789ab' };
const ORIGIN = 'https://app.example.com';
let dir: string;
let r2: LocalR2;
let server: Cli;
let worker: RunningWorker;
const targets: Record<'chute-server' | 'worker', { url: string }> = { 'chute-server': { url: '' }, worker: { url: '' } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-worker-api-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {} });
  const vars = {
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: 'worker-api-token-secret-0123456789abcdef',
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: Object.entries(TOKENS).map(([user, token]) => `${token}:${user}`).join(','),
    CORS_ORIGINS: ORIGIN,
    MAX_OPEN_UPLOADS: '2',
    MULTIPART_THRESHOLD: String(8 * 2 ** 20),
    // 150 points per user (300 per IP) in a window far longer than the suite.
    RATE_LIMIT_CAPACITY: '150',
    RATE_LIMIT_PER_SECOND: '0.01',
  };
  [server, worker] = await Promise.all([startCli({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...vars }), startWorker({ vars })]);
  targets['chute-server'].url = server.url;
  targets.worker.url = worker.url;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await worker?.close();
  await r2?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(base: string, who: keyof typeof TOKENS | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(who ? { authorization: `Bearer ${TOKENS[who]}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, body: json, headers: res.headers };
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(Object.keys(targets) as (keyof typeof targets)[])('%s', (name) => {
  const base = () => targets[name].url;

  test('single PUT: create, PUT to the bucket, list, download byte-identical; the bucket refuses other bytes', async () => {
    const file = new Uint8Array(randomBytes(3000));
    const c = await call(base(), 'alice', 'POST', '/api/uploads', { name: 'a.txt', type: 'text/plain', size: file.length, md5: md5(file) });
    expect(c.status).toBe(201);
    expect(c.body.type).toBe('single');
    expect((await fetch(c.body.request.url, { method: 'PUT', headers: c.body.request.headers, body: new Uint8Array(randomBytes(3000)) })).status).toBe(400);
    expect((await fetch(c.body.request.url, { method: 'PUT', headers: c.body.request.headers, body: file })).status).toBe(200);
    const mine = await call(base(), 'alice', 'GET', '/api/uploads?limit=1000');
    expect(mine.body.uploads.map((u: Json) => u.key)).toContain(c.body.key);
    const d = await call(base(), 'alice', 'POST', '/api/downloads', { key: c.body.key });
    expect(d.status).toBe(200);
    expect(sha(new Uint8Array(await (await fetch(d.body.request.url)).arrayBuffer()))).toBe(sha(file));
  });

  test('batch create: two small files in one call, each PUT enforced by the bucket; a multipart-sized one refused on its own', async () => {
    const files = [new Uint8Array(randomBytes(100)), new Uint8Array(randomBytes(200))];
    const c = await call(base(), 'bob', 'POST', '/api/uploads/batch', {
      files: [...files.map((f, i) => ({ name: `b${i}.bin`, size: f.length, md5: md5(f) })), { name: 'big.bin', size: 9 * 2 ** 20 }],
    });
    expect(c.status).toBe(200);
    expect(c.body.results[2].error.code).toBe('validation_failed');
    for (const [i, f] of files.entries()) {
      const { request } = c.body.results[i].upload;
      expect((await fetch(request.url, { method: 'PUT', headers: request.headers, body: new Uint8Array(randomBytes(f.length)) })).status).toBe(400);
      expect((await fetch(request.url, { method: 'PUT', headers: request.headers, body: f })).status).toBe(200);
    }
  });

  test('multipart: 3 parts with Content-MD5, complete with CRC64NVME, verified at full-object-checksum', async () => {
    const file = new Uint8Array(randomBytes(2 * 5 * 2 ** 20 + 777));
    const r = await uploadThroughApi(base(), file, { token: TOKENS.alice, multipart: true, partSize: 5 * 2 ** 20 });
    expect(r.created).toMatchObject({ type: 'multipart', partCount: 3, checksumAlgorithm: 'CRC64NVME', md5Required: true });
    expect(r.done).toMatchObject({ size: file.length, verification: { level: 'full-object-checksum' }, checksum: { algorithm: 'CRC64NVME' } });
    const d = await call(base(), 'alice', 'POST', '/api/downloads', { key: r.done.key });
    expect(sha(new Uint8Array(await (await fetch(d.body.request.url)).arrayBuffer()))).toBe(sha(file));
  });

  test('multipart in the token form: sign and complete as text/plain without Authorization, verified', async () => {
    const file = new Uint8Array(randomBytes(2 * 5 * 2 ** 20 + 99));
    const r = await uploadThroughApi(base(), file, { token: TOKENS.carol, multipart: true, partSize: 5 * 2 ** 20, tokenForm: true });
    expect(r.done).toMatchObject({ size: file.length, verification: { level: 'full-object-checksum' } });
    const d = await call(base(), 'carol', 'POST', '/api/downloads', { key: r.done.key });
    expect(sha(new Uint8Array(await (await fetch(d.body.request.url)).arrayBuffer()))).toBe(sha(file));
    // text/plain on create is refused: a route on the user's credentials is never CORS-simple.
    const plain = await call(base(), 'carol', 'POST', '/api/uploads', { name: 'a', size: 1 }, { 'content-type': 'text/plain' });
    expect([plain.status, plain.body.error.code]).toEqual([415, 'unsupported_media_type']);
  });

  test('list parts, abort twice, owner checks, tampered tokens', async () => {
    const c = await call(base(), 'bob', 'POST', '/api/uploads', { name: 'x.bin', size: 6 * 2 ** 20, multipart: true });
    expect(c.status).toBe(201);
    const path = `/api/uploads/${encodeURIComponent(c.body.uploadId)}`;
    const parts = await call(base(), 'bob', 'GET', `${path}/parts`, undefined, { 'chute-upload-token': c.body.token });
    expect(parts.body).toEqual({ key: c.body.key, uploadId: c.body.uploadId, parts: [] });
    const other = await call(base(), 'alice', 'GET', `${path}/parts`, undefined, { 'chute-upload-token': c.body.token });
    expect([other.status, other.body.error.code]).toEqual([403, 'forbidden']);
    const tampered = `${c.body.token.slice(0, -2)}AA`;
    const t = await call(base(), 'bob', 'POST', `${path}/parts`, { token: tampered, parts: [{ partNumber: 1, md5: md5(new Uint8Array(1)) }] });
    expect([t.status, t.body.error.code]).toEqual([403, 'invalid_token']);
    for (let i = 0; i < 2; i++) {
      const a = await call(base(), 'bob', 'DELETE', path, undefined, { 'chute-upload-token': c.body.token });
      expect(a.body).toEqual({ aborted: true, key: c.body.key, uploadId: c.body.uploadId });
    }
    // Someone else's key: never signed for download.
    const dl = await call(base(), 'alice', 'POST', '/api/downloads', { key: c.body.key });
    expect([dl.status, dl.body.error.code]).toEqual([403, 'forbidden']);
  });

  test('stock @uppy/aws-s3: a single PutObject signed for its length', async () => {
    const file = new Uint8Array(randomBytes(100));
    const s = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'PUT', key: 'u.png', contentType: 'image/png', contentLength: 100 });
    expect(s.status).toBe(200);
    expect(s.body.key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/u\.png$/);
    expect((await fetch(s.body.url, { method: 'PUT', headers: s.body.headers, body: file })).status).toBe(200);
    const missing = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'PUT', key: 'u.png' });
    expect(missing.body.error.code).toBe('content_length_required');
  });

  test('stock @uppy/aws-s3 multipart: create, parts and complete through the signer\u2019s self-URLs', async () => {
    const file = new Uint8Array(randomBytes(5 * 2 ** 20 + 9));
    const created = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'm.bin', contentType: 'application/octet-stream', size: file.length, partSize: 5 * 2 ** 20 });
    // The self-URL is on the host that answered (Worker or chute-server), signed into its token.
    expect(created.body.url.startsWith(`${base()}/api/uppy/s3/create?t=`)).toBe(true);
    const init = await fetch(created.body.url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await init.text())?.[1] as string;
    expect(uploadId).toMatch(/^chute1\./);
    const etags: string[] = [];
    for (const [n, slice] of [file.subarray(0, 5 * 2 ** 20), file.subarray(5 * 2 ** 20)].entries()) {
      const s = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'PUT', key: created.body.key, uploadId, partNumber: n + 1, contentLength: slice.length });
      const put = await fetch(s.body.url, { method: 'PUT', headers: s.body.headers ?? {}, body: slice });
      etags.push(put.headers.get('etag') as string);
    }
    const list = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'GET', key: created.body.key, uploadId });
    expect(await (await fetch(list.body.url)).text()).toContain('<PartNumber>2</PartNumber>');
    const comp = await call(base(), 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: created.body.key, uploadId });
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await fetch(comp.body.url, { method: 'POST', body: xml });
    expect([done.status, await done.text()]).toEqual([200, expect.stringContaining(`<Key>${created.body.key}</Key>`)]);
    const d = await call(base(), 'alice', 'POST', '/api/downloads', { key: created.body.key });
    expect(sha(new Uint8Array(await (await fetch(d.body.request.url)).arrayBuffer()))).toBe(sha(file));
  });

  test('rate limit: 150 points per user, then 429 with Retry-After (on the Worker: counted in the Durable Object)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 151; i++) statuses.push((await call(base(), 'dave', 'GET', '/api/uploads?limit=1')).status);
    expect(statuses.slice(0, 150).every((s) => s === 200)).toBe(true);
    const last = await call(base(), 'dave', 'GET', '/api/uploads?limit=1');
    expect([last.status, last.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('quota: MAX_OPEN_UPLOADS=2 per user (on the Worker: counted in the LIMITS Durable Object)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(base(), 'carol', 'POST', '/api/uploads', { name: `q${i}`, size: 6 * 2 ** 20, multipart: true })).status);
    expect(statuses).toEqual([201, 201, 429]);
  });

  test('CORS: the allowed origin gets its preflight, another is refused', async () => {
    const ok = await fetch(`${base()}/api/uploads`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const no = await call(base(), 'alice', 'GET', '/api/uploads', undefined, { origin: 'https://evil.example' });
    expect([no.status, no.body.error.code]).toEqual([403, 'origin_not_allowed']);
  });

  test('health', async () => {
    expect(await call(base(), null, 'GET', '/healthz')).toMatchObject({ status: 200, body: { ok: true, bucket: 'reachable' } });
  });
});

describe('chute-server and the Worker answer the same, byte for byte', () => {
  const cases: [string, keyof typeof TOKENS | null, string, string, unknown?, Record<string, string>?][] = [
    ['no credentials', null, 'POST', '/api/uploads', { name: 'a', size: 1 }],
    ['wrong token', null, 'GET', '/api/uploads', undefined, { authorization: 'Bearer nope-nope-nope-nope' }],
    ['bad JSON', 'alice', 'POST', '/api/uploads', '{"name":'],
    ['validation', 'alice', 'POST', '/api/uploads', { name: '', size: -1 }],
    ['checksum required', 'alice', 'POST', '/api/uploads', { name: 'a', size: 10 }],
    ['scriptable type', 'alice', 'POST', '/api/uploads', { name: 'a.svg', type: 'image/svg+xml', size: 10, md5: '1B2M2Y8AsgTpgAmY7PhCfg==' }],
    ['unknown route', 'alice', 'GET', '/api/nothing'],
    ['wrong method', 'alice', 'PUT', '/api/uploads'],
    ['garbage upload token', 'alice', 'POST', '/api/uploads/xyz/parts', { token: 'garbage', parts: [{ partNumber: 1 }] }],
    ['token form without a token', null, 'POST', '/api/uploads/xyz/parts', { parts: [{ partNumber: 1 }] }, { 'content-type': 'text/plain;charset=UTF-8' }],
    ['token form, garbage token', null, 'POST', '/api/uploads/xyz/complete', { token: 'garbage' }, { 'content-type': 'text/plain;charset=UTF-8' }],
    ['token form with Authorization', 'alice', 'POST', '/api/uploads/xyz/parts', { token: 'garbage', parts: [{ partNumber: 1 }] }, { 'content-type': 'text/plain' }],
    ['text/plain create', 'alice', 'POST', '/api/uploads', { name: 'a', size: 1 }, { 'content-type': 'text/plain' }],
    ['form body on downloads', 'alice', 'POST', '/api/downloads', 'key=x', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['bad cursor', 'alice', 'GET', '/api/uploads?cursor=%%%'],
    ['duplicated query', 'alice', 'GET', '/api/uploads?limit=1&limit=2'],
    ['oversized body', 'alice', 'POST', '/api/uploads', JSON.stringify({ name: 'a'.repeat(2 * 2 ** 20), size: 1 })],
    ['outside /api', null, 'GET', '/nothing-here'],
    ['uppy whole-object GET', 'alice', 'POST', '/api/uppy/sign', { method: 'GET', key: 'uploads/alice/x' }],
  ];
  test.each(cases)('%s', async (_label, who, method, path, body, headers) => {
    const [a, b] = await Promise.all([call(targets['chute-server'].url, who, method, path, body, headers), call(targets.worker.url, who, method, path, body, headers)]);
    expect(b.status).toBe(a.status);
    expect(b.text).toBe(a.text);
    for (const h of ['content-type', 'allow', 'cache-control', 'retry-after']) expect([h, b.headers.get(h)]).toEqual([h, a.headers.get(h)]);
  });

  test('a successful create has the same shape and fields', async () => {
    const ask = { name: 'same.bin', size: 12 * 2 ** 20 };
    const [a, b] = await Promise.all([call(targets['chute-server'].url, 'alice', 'POST', '/api/uploads', ask), call(targets.worker.url, 'alice', 'POST', '/api/uploads', ask)]);
    const shape = (x: Json) => ({ ...x, key: x.key.replace(/[0-9a-f-]{36}/, 'UUID'), uploadId: 'ID', token: 'TOKEN', tokenExpiresAt: x.tokenExpiresAt.slice(0, 15) });
    expect(shape(b.body)).toEqual(shape(a.body));
    // storeMultiplexed included: both know from the plain-HTTP endpoint's URL alone (the core's
    // knownMultiplexed), so chute-server's TLS ALPN probe, which the Worker cannot do, is not needed.
    expect([a.body.storeMultiplexed, b.body.storeMultiplexed]).toEqual([false, false]);
    expect([b.status, b.headers.get('content-type')]).toEqual([a.status, a.headers.get('content-type')]);
  });
});
