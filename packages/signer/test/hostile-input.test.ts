import { ERROR_CODES, MiB } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, md5b64, send, signerFor, startStore } from './helpers.js';

// Regression tests for what the reliability fuzz found, and the same classes of input on every
// route: garbage cursors, wrong methods, bad numbers, duplicated query parameters, broken bodies.
// Every answer must be a 4xx with a code from the protocol table, never a 5xx.

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
let upload: Json;
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2, { limits: { requireMd5: false } });
  upload = (await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 2 * 5 * MiB, partSize: 5 * MiB, multipart: true })).body;
  for (const who of ['alice', 'bob'] as const) {
    for (let i = 0; i < 5; i++) {
      const f = bytes(3 + i);
      const c = await api<Json>(signer, who, 'POST', '/api/uploads', { name: `${who}-${i}.txt`, size: f.length, md5: md5b64(f) });
      expect((await send(c.body.request, f)).status).toBe(200);
    }
  }
});
afterAll(() => store.close());

const known = new Set<string>(ERROR_CODES);
/** A 4xx whose JSON body carries a protocol code and a message. */
async function rejected(res: Response, what: string): Promise<string> {
  const text = await res.text();
  expect(res.status, `${what} → ${res.status} ${text}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what} → ${res.status} ${text}`).toBeLessThan(500);
  const code = res.headers.get('content-type')?.includes('xml') ? /<Code>([^<]+)<\/Code>/.exec(text)?.[1] : JSON.parse(text).error?.code;
  expect(known.has(code), `${what} → ${text}`).toBe(true);
  return code;
}
const raw = (method: string, path: string, init: RequestInit = {}, who: 'alice' | 'bob' = 'alice') =>
  signer.fetch(
    new Request(`http://signer.test${path}`, {
      method,
      ...init,
      headers: { authorization: `Bearer ${who === 'alice' ? 'alice-secret-token' : 'bob-secret-token-x'}`, ...(init.headers as Record<string, string>) },
    }),
    { ip: '127.0.0.1' },
  );
const b64url = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');

describe('GET /api/uploads cursor (was: passed to S3 as ContinuationToken → 502)', () => {
  test('garbage cursors → 400 validation_failed on `cursor`, never a bucket error', async () => {
    const garbage = [
      '-1',
      '%23',
      '%25',
      '..%2F..%2Fetc%2Fpasswd',
      '%0D%0AX-Injected%3A%201',
      '%24%7Bjndi%3Aldap%3A%2F%2Fx%7D',
      encodeURIComponent('ünïcødé-☃-𝕏'),
      'NaN',
      '1e309',
      'x'.repeat(3000),
      b64url('uploads/alice/').replace(/.$/, '=='), // padding is not base64url
      'QR', // decodes to "A" but is not the canonical encoding (stray bits)
      b64url(new Uint8Array([0xff, 0xfe, 0x41])), // not UTF-8
      b64url(`uploads/alice/${'a'.repeat(1100)}`), // longer than any S3 key
    ];
    for (const cursor of garbage) {
      const res = await raw('GET', `/api/uploads?cursor=${cursor}`);
      expect(await rejected(res.clone(), cursor)).toBe('validation_failed');
      expect(((await res.json()) as Json).error.details.issues[0].path).toBe('cursor');
    }
  });

  test('a cursor can never page outside the caller’s prefix', async () => {
    for (const key of ['uploads/bob/', 'uploads/bob/zzz', 'uploads/', 'uploads/alicf', 'other/x', 'uploads/alice']) {
      const res = await raw('GET', `/api/uploads?cursor=${b64url(key)}`);
      expect(await rejected(res, key)).toBe('validation_failed');
    }
    // Inside one's own prefix any position is fine, even past the last key.
    const end = await api<Json>(signer, 'alice', 'GET', `/api/uploads?cursor=${b64url('uploads/alice/\u{10ffff}')}`);
    expect([end.status, end.body.uploads]).toEqual([200, []]);
  });

  test('pages of the signer’s cursors cover every own object once, and the last page has no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await api<Json>(signer, 'bob', 'GET', `/api/uploads?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.uploads.map((u: Json) => u.name));
      cursor = r.body.nextCursor;
      if (!cursor) break;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // Keys are uploads/bob/<uuid>/<name>: listing order is uuid order.
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual(['bob-0.txt', 'bob-1.txt', 'bob-2.txt', 'bob-3.txt', 'bob-4.txt']);
    // Bob's cursor is of no use to Alice.
    const bobs = (await api<Json>(signer, 'bob', 'GET', '/api/uploads?limit=1')).body.nextCursor;
    expect(await rejected(await raw('GET', `/api/uploads?cursor=${bobs}`), 'bob’s cursor')).toBe('validation_failed');
  });

  test('limit: only plain whole numbers 1-1000; duplicated parameters are refused', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=-1', 'limit=x', 'limit=0x10', 'limit=1e2', 'limit=%205', 'limit=', 'limit=1.5', 'limit=99999999999999999999']) {
      expect(await rejected(await raw('GET', `/api/uploads?${q}`), q)).toBe('validation_failed');
    }
    for (const q of ['limit=1&limit=2', 'cursor=&cursor=', `cursor=${b64url('uploads/alice/a')}&cursor=${b64url('uploads/bob/a')}`]) {
      expect(await rejected(await raw('GET', `/api/uploads?${q}`), q)).toBe('validation_failed');
    }
    // Unknown parameters (cache busters) and an empty cursor are harmless.
    const ok = await api<Json>(signer, 'alice', 'GET', '/api/uploads?limit=1000&cursor=&_=123&%zz=1');
    expect([ok.status, ok.body.uploads.length]).toEqual([200, 5]);
  });
});

describe('every route × wrong method → 405 method_not_allowed with Allow', () => {
  const id = 'some-upload';
  const routes: [string, string[]][] = [
    ['/api/uploads', ['GET', 'POST']],
    [`/api/uploads/${id}/parts`, ['GET', 'POST']],
    [`/api/uploads/${id}/complete`, ['POST']],
    [`/api/uploads/${id}`, ['DELETE']],
    ['/api/downloads', ['POST']],
    ['/api/uppy/sign', ['POST']],
    ['/api/uppy/s3/create?uploads', ['POST']],
    ['/api/uppy/s3/parts?t=NaN', ['GET']],
    ['/api/uppy/s3/complete?token=NaN&uploadId=x', ['POST']],
    ['/api/uppy/s3/abort?token=1e309', ['DELETE']],
  ];
  for (const [path, allowed] of routes) {
    test(path, async () => {
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        if (allowed.includes(method)) continue;
        const res = await raw(method, path, method === 'GET' || method === 'HEAD' ? {} : { body: '{"raw":"x"}' });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')?.split(', ').sort()).toEqual(allowed);
        if (method !== 'HEAD') expect(await rejected(res, `${method} ${path}`)).toBe('method_not_allowed');
      }
    });
  }
});

describe('stock-Uppy self-URLs with missing, forged or duplicated tokens', () => {
  test('→ 401/403 with an S3-style <Code> from the protocol table', async () => {
    const cases: [string, string][] = [
      ['POST', '/api/uppy/s3/create'],
      ['POST', '/api/uppy/s3/create?uploads&t='],
      ['GET', '/api/uppy/s3/parts?t=NaN'],
      ['POST', '/api/uppy/s3/complete?t=1e309&uploadId=x'],
      ['DELETE', '/api/uppy/s3/abort?t=..%2F..%2Fetc%2Fpasswd'],
      ['DELETE', `/api/uppy/s3/abort?t=${encodeURIComponent(upload.token)}`], // an upload token is not a self-URL token
    ];
    for (const [method, path] of cases) {
      const res = await raw(method, path, method === 'POST' ? { body: '<x/>' } : {});
      expect(['unauthorized', 'invalid_token']).toContain(await rejected(res, `${method} ${path}`));
    }
  });

  test('complete: hostile or broken XML → 400/409 with an S3-style code, nothing completed', async () => {
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'x.bin', size: 6 * 1024 * 1024 });
    const created = await signer.fetch(new Request(c.body.url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }));
    const uploadId = /<UploadId>([^<]+)</.exec(await created.text())?.[1] as string;
    const complete = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: c.body.key, uploadId });
    const part = (n: string, etag = '"d41d8cd98f00b204e9800998ecf8427e"') => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;
    const lol = Array.from({ length: 6 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const bodies: [string, string][] = [
      [`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">${lol}]><CompleteMultipartUpload>${part('1', '&l6;')}</CompleteMultipartUpload>`, 'upload_incomplete'],
      [`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><CompleteMultipartUpload>${part('1', '&e;')}</CompleteMultipartUpload>`, 'bad_request'],
      [`<CompleteMultipartUpload>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</CompleteMultipartUpload>`, 'bad_request'],
      ...['0', '-1', '10001', '1e309', 'NaN', '1.5', 'constructor'].map((n): [string, string] => [`<CompleteMultipartUpload>${part(n)}</CompleteMultipartUpload>`, 'bad_request']),
      [`<CompleteMultipartUpload>${part('1').repeat(10_001)}</CompleteMultipartUpload>`, 'bad_request'],
      ['<__proto__><polluted>1</polluted></__proto__>', 'bad_request'],
      ['\u00ff\u00fe', 'bad_request'],
      [`<CompleteMultipartUpload>${part('1')}</CompleteMultipartUpload>`, 'upload_incomplete'],
    ];
    for (const [xml, code] of bodies) {
      const res = await signer.fetch(new Request(complete.body.url, { method: 'POST', body: xml }));
      expect(await rejected(res, xml.slice(0, 80)), xml.slice(0, 80)).toBe(code);
    }
    // The upload is still there, untouched: listing it works.
    const list = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'GET', key: c.body.key, uploadId });
    expect((await signer.fetch(new Request(list.body.url))).status).toBe(200);
  });

  test('a valid self-URL with its token given twice → 400', async () => {
    const signed = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'k.bin', size: 10 });
    const t = new URL(signed.body.url).searchParams.get('t') as string;
    const res = await raw('POST', `/api/uppy/s3/create?t=${encodeURIComponent(t)}&t=x`, { headers: { 'content-type': 'text/plain' } });
    expect(await rejected(res, 'duplicated t')).toBe('validation_failed');
  });
});

describe('bodies: wrong content type, invalid JSON and UTF-8, extreme numbers', () => {
  test('JSON routes', async () => {
    const routes = ['/api/uploads', `/api/uploads/${encodeURIComponent(upload.uploadId)}/parts`, `/api/uploads/${encodeURIComponent(upload.uploadId)}/complete`, '/api/downloads', '/api/uppy/sign'];
    const bodies: [RequestInit['body'] | undefined, Record<string, string>, string][] = [
      [undefined, {}, 'bad_request'],
      ['', { 'content-type': 'application/json' }, 'bad_request'],
      // The CORS-simple body types (sent cross-origin without a preflight) are refused unread.
      ['name=a&size=1', { 'content-type': 'application/x-www-form-urlencoded' }, 'unsupported_media_type'],
      ['--x\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }, 'unsupported_media_type'],
      ['{"name":"a","size":1}', { 'content-type': 'application/xml' }, 'unsupported_media_type'],
      [new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), { 'content-type': 'application/json' }, 'bad_request'], // {"\xc3(":1}
      [new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), { 'content-type': 'application/json' }, 'validation_failed'], // BOM (ignored) + {}
      ['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', { 'content-type': 'application/json' }, 'bad_request'],
      ['{"size":1e309,"partNumber":1e309,"token":1e309}', { 'content-type': 'application/json' }, 'validation_failed'],
      ['{"__proto__":{"admin":true},"constructor":{"prototype":{}}}', { 'content-type': 'application/json' }, 'validation_failed'],
      ['null', { 'content-type': 'application/json' }, 'validation_failed'],
    ];
    for (const path of routes) {
      for (const [body, headers, code] of bodies) {
        const res = await raw('POST', path, { headers, ...(body === undefined ? {} : { body }) });
        expect(await rejected(res, `${path} ${String(body).slice(0, 30)}`), `${path} ${String(body).slice(0, 40)}`).toBe(code);
      }
    }
    expect(({} as Json).admin).toBeUndefined();
  });

  test('numbers: huge, negative, NaN-like, fractional and unsafe integers', async () => {
    const sizes: unknown[] = [-1, -0.5, 1.5, 2 ** 53 + 2, Number.MAX_VALUE, '1', '1e3', null, true, [], {}, 'NaN'];
    for (const size of sizes) {
      const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a', size });
      expect([r.status, r.body.error?.code], JSON.stringify(size)).toEqual([400, 'validation_failed']);
    }
    for (const partSize of [0, -1, 0.5, 2 ** 60]) {
      const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a', size: 20 * MiB, multipart: true, partSize });
      expect(r.status, String(partSize)).toBeLessThan(500);
      if (r.status !== 201) expect(known.has(r.body.error.code)).toBe(true);
    }
    const path = `/api/uploads/${encodeURIComponent(upload.uploadId)}/parts`;
    for (const partNumber of [0, -1, 10_001, 2 ** 53, 1e308, 1.5, '1', null]) {
      const r = await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: [{ partNumber }] });
      expect([r.status, r.body.error?.code], JSON.stringify(partNumber)).toEqual([400, 'validation_failed']);
    }
    for (const limit of [1e309, -1]) {
      const r = await raw('GET', `/api/uploads?limit=${limit}`);
      expect(await rejected(r, String(limit))).toBe('validation_failed');
    }
  });

  test('upload ids in the path: bad percent-encoding, NUL, dot segments, 1,025 chars', async () => {
    const t = { 'chute-upload-token': upload.token };
    for (const id of ['%E0%A4%A', '%zz', '%00', '%2e%2e', '..', encodeURIComponent('ünï'), 'x'.repeat(1025)]) {
      for (const [method, path, init] of [
        ['GET', `/api/uploads/${id}/parts`, { headers: t }],
        ['DELETE', `/api/uploads/${id}`, { headers: t }],
        ['POST', `/api/uploads/${id}/complete`, { body: JSON.stringify({ token: upload.token }) }],
      ] as const) {
        await rejected(await raw(method, path, init), `${method} ${path}`);
      }
    }
  });

  test('keys and names that have no UTF-8 form, control characters, dot segments (were 500/502/503)', async () => {
    const bad: [string, unknown, string][] = [
      ['/api/downloads', { key: 'uploads/alice/\ud800x' }, 'validation_failed'],
      ['/api/downloads', { key: 'uploads/alice/x\u0000' }, 'validation_failed'],
      ['/api/downloads', { key: 'uploads/alice/x', filename: 'a\udc00.txt' }, 'validation_failed'],
      ['/api/downloads', { key: 'uploads/alice/../bob/x' }, 'forbidden'],
      ['/api/downloads', { key: 'uploads/alice//x' }, 'forbidden'],
      ['/api/downloads', { key: `uploads/alice/${'é'.repeat(600)}` }, 'validation_failed'],
      ['/api/uppy/sign', { method: 'PUT', key: 'uploads/alice/\ud800', uploadId: 'u', partNumber: 1 }, 'validation_failed'],
      ['/api/uppy/sign', { method: 'PUT', key: 'uploads/alice/x', uploadId: '\ud800', partNumber: 1 }, 'validation_failed'],
      ['/api/uppy/sign', { method: 'GET', key: 'uploads/alice/x', uploadId: 'a b' }, 'validation_failed'],
      ['/api/uppy/sign', { method: 'POST', key: 'uploads/alice/./x', uploadId: 'u' }, 'forbidden'],
    ];
    for (const [path, body, code] of bad) {
      const r = await api<Json>(signer, 'alice', 'POST', path, body);
      expect([r.status < 500, r.body.error?.code], JSON.stringify(body)).toEqual([true, code]);
    }
    // File names are made safe rather than refused.
    for (const name of ['\ud800', 'a\u0000\u001f.txt', '\udfff\ud800.png']) {
      const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name, size: 1, multipart: false });
      expect(r.status, JSON.stringify(name)).toBe(201);
      expect(r.body.key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/[^/]+$/);
    }
  });
});
