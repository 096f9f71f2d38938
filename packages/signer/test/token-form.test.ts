// The preflight-free form of sign-parts and complete: a text/plain JSON body, no Authorization,
// authorised by the upload token alone. Against a real local-r2.
import { MiB, partRange, TOKEN_FORM_CONTENT_TYPE } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, crc64nvme, digest, md5b64, send, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
const completed: { userId: string; key: string }[] = [];
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2, {
    limits: { multipartThreshold: 6 * MiB },
    corsOrigins: ['https://app.example'],
    onUploadComplete: (e) => void completed.push({ userId: e.userId, key: e.key }),
  });
});
afterAll(() => store.close());

/** What a browser's CORS-simple POST looks like: text/plain, no Authorization, maybe an Origin. */
async function simple(s: Signer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await s.fetch(
    new Request(`http://signer.test${path}`, {
      method: 'POST',
      headers: { 'content-type': TOKEN_FORM_CONTENT_TYPE, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    { ip: '127.0.0.1' },
  );
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json, headers: res.headers };
}

async function createMultipart(size: number, s: Signer = signer) {
  const c = await api<Json>(s, 'alice', 'POST', '/api/uploads', { name: 'big.bin', size, partSize: 5 * MiB });
  expect(c.status).toBe(201);
  return c.body as { uploadId: string; token: string; key: string; partCount: number; partSize: number };
}
const parts = (id: string) => `/api/uploads/${encodeURIComponent(id)}/parts`;
const complete = (id: string) => `/api/uploads/${encodeURIComponent(id)}/complete`;

describe('token form (text/plain, upload token only)', () => {
  test('sign → PUT → complete: verified, byte-identical, the caller is the token’s user', async () => {
    const file = bytes(12 * MiB);
    const u = await createMultipart(file.length);
    const ranges = [1, 2, 3].map((n) => partRange(n, u.partSize, file.length));
    const signed = await simple(
      signer,
      parts(u.uploadId),
      { token: u.token, parts: ranges.map((r) => ({ partNumber: r.partNumber, md5: md5b64(file.subarray(r.start, r.end)) })), format: 'template' },
      { origin: 'https://app.example' },
    );
    expect(signed.status).toBe(200);
    // The browser may read the answer: it carries the CORS headers of the allowed origin.
    expect(signed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(signed.body.template.url).toContain('{signature}');
    for (const [i, p] of (signed.body.parts as Json[]).entries()) {
      const r = ranges[i] as (typeof ranges)[number];
      const url = signed.body.template.url.replace('{partNumber}', String(p.partNumber)).replace('{signature}', p.signature);
      expect((await send({ method: 'PUT', url, headers: p.headers }, file.subarray(r.start, r.end))).status).toBe(200);
    }
    const done = await simple(signer, complete(u.uploadId), { token: u.token, checksum: await crc64nvme(file) }, { origin: 'https://app.example' });
    expect(done.status).toBe(200);
    expect(done.body.verification.level).toBe('full-object-checksum');
    expect(completed).toContainEqual({ userId: 'alice', key: u.key });
    const d = await api<Json>(signer, 'alice', 'POST', '/api/downloads', { key: u.key });
    expect(digest(new Uint8Array(await (await send(d.body.request)).arrayBuffer()))).toBe(digest(file));
  });

  test('no token → 401 unauthorized; forged, other upload or expired → 403 with stable codes', async () => {
    const u = await createMultipart(12 * MiB);
    const other = await createMultipart(12 * MiB);
    const body = (token?: unknown) => ({ ...(token === undefined ? {} : { token }), parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] });
    const cases: [unknown, number, string][] = [
      [body(), 401, 'unauthorized'],
      [body(''), 401, 'unauthorized'],
      [body(42), 401, 'unauthorized'],
      ['null', 401, 'unauthorized'],
      [body('not.a-token'), 403, 'invalid_token'],
      [body(`${u.token.slice(0, -2)}AA`), 403, 'invalid_token'],
      [body(other.token), 403, 'invalid_token'],
      ['{"token":', 400, 'bad_request'],
    ];
    for (const path of [parts(u.uploadId), complete(u.uploadId)]) {
      for (const [b, status, code] of cases) {
        const r = await simple(signer, path, b);
        expect([r.status, r.body.error?.code], `${path} ${JSON.stringify(b)}`).toEqual([status, code]);
        expect(r.body.error.message.length).toBeGreaterThan(20);
      }
    }
    // A token past its lifetime: a signer whose clock is 25 h ahead (tokens live 24 h).
    const later = signerFor(store.r2, { now: () => Date.now() + 25 * 3600_000 });
    const r = await simple(later, parts(u.uploadId), body(u.token));
    expect([r.status, r.body.error.code]).toEqual([403, 'token_expired']);
  });

  test('the token is the only credential: Authorization alongside is refused, cookies mean nothing', async () => {
    const u = await createMultipart(12 * MiB);
    const b = { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] };
    const mixed = await simple(signer, parts(u.uploadId), b, { authorization: 'Bearer bob-secret-token-x' });
    expect([mixed.status, mixed.body.error.code]).toEqual([400, 'bad_request']);
    const cookie = await simple(signer, parts(u.uploadId), { ...b, token: undefined }, { cookie: 'session=alice' });
    expect([cookie.status, cookie.body.error.code]).toEqual([401, 'unauthorized']);
  });

  test('a page on another origin is refused before anything is read or signed', async () => {
    const u = await createMultipart(12 * MiB);
    const r = await simple(signer, parts(u.uploadId), { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] }, { origin: 'https://evil.example' });
    expect([r.status, r.body.error.code]).toEqual([403, 'origin_not_allowed']);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('every check of the JSON form still applies: part numbers, checksums, the upload’s URL budget', async () => {
    const u = await createMultipart(12 * MiB);
    const bad = await simple(signer, parts(u.uploadId), { token: u.token, parts: [{ partNumber: 4, md5: md5b64(bytes(1)) }] });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_part_number']);
    const noMd5 = await simple(signer, parts(u.uploadId), { token: u.token, parts: [{ partNumber: 1 }] });
    expect([noMd5.status, noMd5.body.error.code]).toEqual([400, 'checksum_required']);
    const extra = await simple(signer, parts(u.uploadId), { token: u.token, parts: [] });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'validation_failed']);
    // An upload of 3 parts may have 50 URLs signed in all (MIN_URLS): the 17th call of 3 is over.
    const t = await createMultipart(12 * MiB);
    const all = { token: t.token, parts: [1, 2, 3].map((partNumber) => ({ partNumber, md5: md5b64(bytes(1)) })) };
    const statuses: number[] = [];
    for (let i = 0; i < 17; i++) statuses.push((await simple(signer, parts(t.uploadId), all)).status);
    expect(statuses).toEqual([...Array(16).fill(200), 429]);
    const over = await simple(signer, parts(t.uploadId), all);
    expect([over.status, over.body.error.code]).toEqual([429, 'quota_exceeded']);
    // Complete with parts missing is still refused.
    const early = await simple(signer, complete(u.uploadId), { token: u.token });
    expect([early.status, early.body.error.code]).toEqual([409, 'upload_incomplete']);
  });

  test('rate limits count the token’s user', async () => {
    const limited = signerFor(store.r2, { limits: { multipartThreshold: 6 * MiB }, rateLimit: { capacity: 6, refillPerSecond: 0.001 } });
    const u = await createMultipart(12 * MiB, limited); // 1 point + 0 URLs
    const b = { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] };
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await simple(limited, parts(u.uploadId), b)).status);
    // Each call is 1 point for the request and 1 for its URL: 6 points hold create and 2 calls.
    expect(codes).toEqual([200, 200, 429, 429]);
  });

  test('other JSON routes refuse text/plain and the other CORS-simple types (415); the JSON form is unchanged', async () => {
    const routes = ['/api/uploads', '/api/uploads/batch', '/api/downloads', '/api/uploads/discard', '/api/uppy/sign'];
    for (const path of routes) {
      for (const type of ['text/plain', TOKEN_FORM_CONTENT_TYPE, 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const r = await api<Json>(signer, 'alice', 'POST', path, undefined, { 'content-type': type });
        expect([r.status, r.body.error?.code], `${path} ${type}`).toEqual([415, 'unsupported_media_type']);
      }
    }
    // The header form of sign: bearer + JSON, as every client before the token form sent it.
    const u = await createMultipart(12 * MiB);
    const json = await api<Json>(signer, 'alice', 'POST', parts(u.uploadId), { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] });
    expect(json.status).toBe(200);
    expect((await api<Json>(signer, 'bob', 'POST', parts(u.uploadId), { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] })).body.error.code).toBe('forbidden');
  });

  test('tokenForm: false: a text/plain call without credentials is 401, with them 415 (clients fall back to JSON)', async () => {
    const strict = signerFor(store.r2, { limits: { multipartThreshold: 6 * MiB }, tokenForm: false });
    const u = await createMultipart(12 * MiB, strict);
    const b = { token: u.token, parts: [{ partNumber: 1, md5: md5b64(bytes(1)) }] };
    const r = await simple(strict, parts(u.uploadId), b);
    expect([r.status, r.body.error.code]).toEqual([401, 'unauthorized']);
    const typed = await simple(strict, parts(u.uploadId), b, { authorization: 'Bearer alice-secret-token' });
    expect([typed.status, typed.body.error.code]).toEqual([415, 'unsupported_media_type']);
    expect((await api<Json>(strict, 'alice', 'POST', parts(u.uploadId), b)).status).toBe(200);
  });
});
