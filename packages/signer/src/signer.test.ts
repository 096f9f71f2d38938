import { describe, expect, test } from 'vitest';
import { bearerTokens } from './auth.js';
import { createSigner } from './signer.js';

// Routing, auth, CORS, limits and presigning need no bucket: the endpoint here is unreachable on
// purpose. Everything that talks to a bucket is tested against local-r2 in test/.
const MD5 = 'XrY7u+Ae7tCTyyK7j1rNww==';
const make = (over: Partial<Parameters<typeof createSigner>[0]> = {}) =>
  createSigner({
    s3: { bucket: 'b', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
    tokenSecrets: ['t'.repeat(32)],
    authenticate: bearerTokens({ 'alice-token': 'alice' }),
    corsOrigins: ['https://app.example'],
    ...over,
  });
const call = (s: ReturnType<typeof make>, path: string, init: RequestInit & { auth?: boolean } = {}) => {
  const headers = new Headers(init.headers);
  if (init.auth !== false) headers.set('authorization', 'Bearer alice-token');
  return s.fetch(new Request(`http://signer.test${path}`, { ...init, headers }), { ip: '10.0.0.1' });
};
const post = (s: ReturnType<typeof make>, path: string, body: unknown, init: RequestInit & { auth?: boolean } = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return call(s, path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init, headers });
};
const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

describe('errors', () => {
  const s = make();
  test('no or bad credentials → 401', async () => {
    const r = await post(s, '/api/uploads', { name: 'a', size: 1 }, { auth: false });
    expect(r.status).toBe(401);
    expect(await errorCode(r)).toBe('unauthorized');
    const r2 = await post(s, '/api/uploads', { name: 'a', size: 1 }, { headers: { authorization: 'Bearer nope' }, auth: false });
    expect(r2.status).toBe(401);
  });
  test('unknown route → 404, wrong method → 405 with Allow', async () => {
    expect((await call(s, '/api/nope')).status).toBe(404);
    const r = await call(s, '/api/downloads');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(await errorCode(r)).toBe('method_not_allowed');
  });
  test('malformed JSON → 400 bad_request; invalid fields → 400 validation_failed', async () => {
    const r = await post(s, '/api/uploads', '{"name":');
    expect(r.status).toBe(400);
    expect(await errorCode(r)).toBe('bad_request');
    for (const body of [{ name: 'a', size: -1 }, { name: 'a', size: 2 ** 63 }, { name: '', size: 1 }, { size: 1 }, [], null, '"x"']) {
      const v = await post(s, '/api/uploads', body);
      expect(v.status, JSON.stringify(body)).toBe(400);
      expect(await errorCode(v)).toBe('validation_failed');
    }
  });
  test('oversized bodies → 413 without reading them whole', async () => {
    const big = JSON.stringify({ name: 'a'.repeat(2 * 1024 * 1024), size: 1 });
    const r = await post(s, '/api/uploads', big);
    expect(r.status).toBe(413);
    // The rest is never read, so the connection cannot carry another request: the adapter closes it.
    expect(r.headers.get('connection')).toBe('close');
    expect(await errorCode(r)).toBe('payload_too_large');
    // A declared length over the limit: the body stream is cancelled unread.
    let cancelled = false;
    const declared = await s.fetch(
      new Request('http://signer.test/api/uploads', {
        method: 'POST',
        body: new ReadableStream({ cancel: () => void (cancelled = true) }),
        headers: { authorization: 'Bearer alice-token', 'content-length': String(2 * 1024 * 1024) },
        duplex: 'half',
      } as RequestInit),
    );
    expect([declared.status, declared.headers.get('connection'), cancelled]).toEqual([413, 'close', true]);
    // The same with a streamed body that has no Content-Length.
    let pulled = 0;
    const stream = new ReadableStream({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(64 * 1024).fill(32));
      },
    });
    const r2 = await s.fetch(
      new Request('http://signer.test/api/uploads', {
        method: 'POST',
        body: stream,
        headers: { authorization: 'Bearer alice-token' },
        duplex: 'half',
      } as RequestInit),
    );
    expect([r2.status, r2.headers.get('connection')]).toEqual([413, 'close']);
    // Read up to the 1 MiB limit, not on: 16 chunks of 64 KiB and the one that crossed it (plus read-ahead).
    expect(pulled).toBeLessThan(24);
  });
  test('policy rejections', async () => {
    const small = make({ limits: { maxFileSize: 1000, allowedContentTypes: ['image/*'] } });
    const big = await post(small, '/api/uploads', { name: 'a.png', type: 'image/png', size: 1001, md5: MD5 });
    expect([big.status, await errorCode(big)]).toEqual([413, 'file_too_large']);
    const html = await post(small, '/api/uploads', { name: 'a.html', type: 'text/html', size: 10, md5: MD5 });
    expect([html.status, await errorCode(html)]).toEqual([415, 'content_type_not_allowed']);
    const noMd5 = await post(small, '/api/uploads', { name: 'a.png', type: 'image/png', size: 10 });
    expect([noMd5.status, await errorCode(noMd5)]).toEqual([400, 'checksum_required']);
    const badSum = await post(small, '/api/uploads', { name: 'a.png', type: 'image/png', size: 10, checksumAlgorithm: 'CRC32', checksum: 'AAAAAAAAAAA=' });
    expect([badSum.status, await errorCode(badSum)]).toEqual([400, 'invalid_checksum']);
    const two = await post(small, '/api/uploads', { name: 'a.png', type: 'image/png', size: 10, md5: MD5, checksumAlgorithm: 'CRC32', checksum: 'DUoRhQ==' });
    expect([two.status, await errorCode(two)]).toEqual([400, 'validation_failed']);
  });
  test('the bucket being down is a 503, not a 500', async () => {
    const r = await post(s, '/api/uploads', { name: 'big.bin', size: 100 * 1024 * 1024 });
    expect(r.status).toBe(503);
    expect(await errorCode(r)).toBe('storage_unavailable');
  });
  test('tokens: missing, forged → 403 invalid_token', async () => {
    const r = await post(s, '/api/uploads/u1/parts', { token: 'abc.def', parts: [{ partNumber: 1, md5: MD5 }] });
    expect([r.status, await errorCode(r)]).toEqual([403, 'invalid_token']);
    const r2 = await call(s, '/api/uploads/u1/parts');
    expect([r2.status, await errorCode(r2)]).toEqual([403, 'invalid_token']);
  });
});

describe('single PUT presigning', () => {
  test('signs content-type, content-length and Content-MD5 as headers', async () => {
    const s = make();
    const r = await post(s, '/api/uploads', { name: 'a.txt', type: 'text/plain', size: 11, md5: MD5 });
    const body = (await r.json()) as { request: { url: string; headers: Record<string, string> } };
    expect(new URL(body.request.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;content-type;host');
    expect(body.request.headers).toEqual({ 'content-type': 'text/plain', 'content-md5': MD5 });
  });
  test('signs an x-amz-checksum as a header, not hoisted into the query', async () => {
    const s = make();
    const r = await post(s, '/api/uploads', {
      name: '../../etc/Ünï code.txt',
      type: 'Text/Plain',
      size: 11,
      checksumAlgorithm: 'CRC32',
      checksum: 'DUoRhQ==',
      metadata: { project: 'x' },
    });
    expect(r.status).toBe(201);
    const body = (await r.json()) as { type: string; key: string; request: { url: string; headers: Record<string, string>; method: string; expiresAt: string } };
    expect(body.type).toBe('single');
    expect(body.key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/Ünï code\.txt$/);
    const url = new URL(body.request.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual([
      'content-length',
      'content-type',
      'host',
      'x-amz-checksum-crc32',
    ]);
    expect(url.searchParams.get('x-amz-checksum-crc32')).toBeNull(); // not hoisted into the query
    expect(url.searchParams.get('x-amz-meta-project')).toBe('x');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(body.request.headers).toEqual({ 'content-type': 'text/plain', 'x-amz-checksum-crc32': 'DUoRhQ==' });
    expect(body.request.method).toBe('PUT');
  });
});

describe('CORS', () => {
  const s = make();
  test('preflight from an allowed origin', async () => {
    const r = await s.fetch(new Request('http://signer.test/api/uploads', { method: 'OPTIONS', headers: { origin: 'https://app.example' } }));
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(r.headers.get('access-control-allow-headers')).toContain('chute-upload-token');
  });
  test('other origins are refused; errors carry CORS headers so browsers can read them', async () => {
    const r = await s.fetch(new Request('http://signer.test/api/uploads', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }));
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const r2 = await post(s, '/api/uploads', { name: 'a', size: 1 }, { headers: { origin: 'https://evil.example' } });
    expect([r2.status, await errorCode(r2)]).toEqual([403, 'origin_not_allowed']);
    const r3 = await post(s, '/api/uploads', { name: 'a', size: -1 }, { headers: { origin: 'https://app.example' } });
    expect(r3.status).toBe(400);
    expect(r3.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
  test('same origin is always allowed', async () => {
    const r = await post(s, '/api/uploads', { name: 'a', size: -1 }, { headers: { origin: 'http://signer.test' } });
    expect(r.status).toBe(400);
  });
});

describe('rate limiting (token buckets, per instance)', () => {
  const req = (ip: string, auth = true) =>
    new Request('http://signer.test/api/uploads', {
      method: 'POST',
      body: '{"name":"a","size":-1}',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bearer alice-token' } : {}) },
    });
  test('per user: the 4th request of a 3-burst is 429 with Retry-After, even from fresh IPs', async () => {
    const s = make({ rateLimit: { capacity: 3, refillPerSecond: 0.01 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await s.fetch(req(`10.0.1.${i}`), { ip: `10.0.1.${i}` })).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    const r = await s.fetch(req('10.0.1.9'), { ip: '10.0.1.9' });
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await errorCode(r)).toBe('rate_limited');
  });
  test('per IP (2× the user burst), counted before authentication', async () => {
    const s = make({ rateLimit: { capacity: 3, refillPerSecond: 0.01 } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await s.fetch(req('10.0.2.1', false), { ip: '10.0.2.1' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    expect((await s.fetch(req('10.0.2.2', false), { ip: '10.0.2.2' })).status).toBe(401);
  });
});

test('onResponse sees route, status, code and user', async () => {
  const seen: unknown[] = [];
  const s = make({ onResponse: (i) => seen.push({ route: i.route, status: i.status, code: i.code, userId: i.userId }) });
  await post(s, '/api/uploads', { name: 'a', size: -1 });
  expect(seen).toEqual([{ route: '/api/uploads', status: 400, code: 'validation_failed', userId: 'alice' }]);
});
