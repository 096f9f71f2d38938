import { MiB } from '@chute/protocol';
import { createSigner, type Signer, TokenSigner } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, md5b64, SECRETS, send, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
let upload: Json; // alice's multipart upload
let aliceKey: string; // one of alice's stored objects
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2);
  upload = (await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 20 * MiB })).body;
  const f = bytes(10);
  const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.txt', size: 10, md5: md5b64(f) });
  expect((await send(c.body.request, f)).status).toBe(200);
  aliceKey = c.body.key;
});
afterAll(() => store.close());

const id = () => encodeURIComponent(upload.uploadId);
const calls = (token: string) =>
  [
    ['sign', 'POST', `/api/uploads/${id()}/parts`, { token, parts: [{ partNumber: 1, md5: md5b64(new Uint8Array(1)) }] }, {}],
    ['list', 'GET', `/api/uploads/${id()}/parts`, undefined, { 'chute-upload-token': token }],
    ['complete', 'POST', `/api/uploads/${id()}/complete`, { token }, {}],
    ['abort', 'DELETE', `/api/uploads/${id()}`, undefined, { 'chute-upload-token': token }],
  ] as const;

describe('auth matrix', () => {
  test('no or invalid credentials → 401 on every route', async () => {
    for (const [method, path] of [
      ['POST', '/api/uploads'],
      ['GET', '/api/uploads'],
      ['POST', `/api/uploads/${id()}/parts`],
      ['GET', `/api/uploads/${id()}/parts`],
      ['POST', `/api/uploads/${id()}/complete`],
      ['DELETE', `/api/uploads/${id()}`],
      ['POST', '/api/downloads'],
      ['POST', '/api/uppy/sign'],
    ]) {
      const r = await api<Json>(signer, 'nobody', method as string, path as string, method === 'POST' ? {} : undefined);
      expect([path, r.status, r.body.error.code]).toEqual([path, 401, 'unauthorized']);
    }
  });

  test("bob cannot sign, list, complete, abort or download alice's upload", async () => {
    for (const [name, method, path, body, headers] of calls(upload.token)) {
      const r = await api<Json>(signer, 'bob', method, path, body, headers);
      expect([name, r.status, r.body.error.code]).toEqual([name, 403, 'forbidden']);
    }
    const d = await api<Json>(signer, 'bob', 'POST', '/api/downloads', { key: aliceKey });
    expect([d.status, d.body.error.code]).toEqual([403, 'forbidden']);
    const u = await api<Json>(signer, 'bob', 'POST', '/api/uppy/sign', { method: 'PUT', key: upload.key, uploadId: upload.uploadId, partNumber: 1 });
    expect([u.status, u.body.error.code]).toEqual([403, 'forbidden']);
    // Bob forging a token for alice's upload with his own identity fails on the HMAC.
    const forged = await new TokenSigner(['x'.repeat(40)]).sign({ typ: 'upload', exp: 2e9, k: upload.key, u: upload.uploadId, s: 20 * MiB, p: 16 * MiB, a: 'NONE', m: false, sub: 'bob' } as never);
    for (const [name, method, path, body, headers] of calls(forged)) {
      const r = await api<Json>(signer, 'bob', method, path, body, headers);
      expect([name, r.status, r.body.error.code]).toEqual([name, 403, 'invalid_token']);
    }
    // The upload survived all of it.
    const l = await api<Json>(signer, 'alice', 'GET', `/api/uploads/${id()}/parts`, undefined, { 'chute-upload-token': upload.token });
    expect(l.status).toBe(200);
  });

  test('a tampered token → 403 invalid_token; an expired token → 403 token_expired', async () => {
    const [body, mac] = (upload.token as string).split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const bigger = Buffer.from(JSON.stringify({ ...payload, s: payload.s * 2 })).toString('base64url');
    for (const [name, method, path, b, h] of calls(`${bigger}.${mac}`)) {
      const r = await api<Json>(signer, 'alice', method, path, b, h);
      expect([name, r.status, r.body.error.code]).toEqual([name, 403, 'invalid_token']);
    }
    // A token for another upload id does not work on this one.
    const other = (await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'b.bin', size: 20 * MiB })).body;
    const cross = await api<Json>(signer, 'alice', 'GET', `/api/uploads/${id()}/parts`, undefined, { 'chute-upload-token': other.token });
    expect([cross.status, cross.body.error.code]).toEqual([403, 'invalid_token']);
    // Expiry: a signer whose clock is 25 h ahead (token lifetime is 24 h).
    const later = signerFor(store.r2, { now: () => Date.now() + 25 * 3600_000 });
    // Abort is left out: its owner may still abort after expiry (owner abort, test/limits.test.ts).
    for (const [name, method, path, b, h] of calls(upload.token).filter(([name]) => name !== 'abort')) {
      const r = await api<Json>(later, 'alice', method, path, b, h);
      expect([name, r.status, r.body.error.code]).toEqual([name, 403, 'token_expired']);
    }
  });

  test("keys outside the caller's prefix are refused", async () => {
    for (const key of ['uploads/bob/x', 'uploads/alice', 'other/alice/x', 'uploads/alice2/x', '../uploads/alice/x']) {
      const r = await api<Json>(signer, 'alice', 'POST', '/api/downloads', { key });
      expect([key, r.status]).toEqual([key, 403]);
    }
  });
});

test('stateless: create on one instance, sign, list and complete on another (rotated secrets)', async () => {
  const a = signerFor(store.r2);
  const b = createSigner({
    s3: { bucket: 'chute-test', endpoint: store.r2.endpoint, forcePathStyle: true, credentials: store.r2.credentials },
    tokenSecrets: ['n'.repeat(40), ...SECRETS],
    authenticate: (await import('@chute/signer')).bearerTokens({ 'alice-secret-token': 'alice' }),
  });
  const file = bytes(5 * MiB + 1);
  const c = await api<Json>(a, 'alice', 'POST', '/api/uploads', { name: 's.bin', size: file.length, partSize: 5 * MiB, multipart: true });
  const i = encodeURIComponent(c.body.uploadId);
  const slices = [file.subarray(0, 5 * MiB), file.subarray(5 * MiB)];
  const s = await api<Json>(b, 'alice', 'POST', `/api/uploads/${i}/parts`, { token: c.body.token, parts: slices.map((x, n) => ({ partNumber: n + 1, md5: md5b64(x) })) });
  expect(s.status).toBe(200);
  for (const [n, p] of s.body.parts.entries()) expect((await send(p, slices[n])).status).toBe(200);
  const done = await api<Json>(b, 'alice', 'POST', `/api/uploads/${i}/complete`, { token: c.body.token });
  expect(done.status).toBe(200);
  expect(done.body.size).toBe(file.length);
});
