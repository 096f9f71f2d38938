import { MiB } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
let upload: Json;
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2, { limits: { requireMd5: false } });
  upload = (await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 3 * 5 * MiB, partSize: 5 * MiB, multipart: true })).body;
});
afterAll(() => store.close());

const expect4xx = (r: { status: number; body: Json }, code: string) => {
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe('string');
};

test('create: malformed JSON, huge and negative sizes, wrong types', async () => {
  expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads', '{'), 'bad_request');
  expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads', '\u00ff\u00fe'), 'bad_request');
  for (const body of [
    { name: 'a', size: -1 },
    { name: 'a', size: 1e300 },
    { name: 'a', size: 6 * 1024 ** 4 },
    { name: 'a', size: '10' },
    { name: 'a', size: 1, metadata: { 'x y': '1' } },
    { name: 'a', size: 1, checksumAlgorithm: 'MD4' },
    { name: 'a'.repeat(2000), size: 1 },
  ]) {
    expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads', body), 'validation_failed');
  }
  expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a', size: 6 * 1024 ** 3 }), 'file_too_large');
  expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a', size: 10, type: 'no/t a type' }), 'validation_failed');
});

test('unicode and ../ in names stay inside the caller’s prefix', async () => {
  for (const name of ['../../../etc/passwd', '..\\..\\x.txt', '/', '%2e%2e%2fx', '💥🔥.txt', 'a\u0000b', '\u202eevil.exe']) {
    const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name, size: 1, multipart: false });
    expect(r.status, name).toBe(201);
    expect(r.body.key.startsWith('uploads/alice/')).toBe(true);
    expect(r.body.key.split('/')).toHaveLength(4);
    expect(r.body.key).not.toContain('..');
  }
});

test('sign parts: part numbers 0, 10,001 and beyond the file; bad checksums', async () => {
  const path = `/api/uploads/${encodeURIComponent(upload.uploadId)}/parts`;
  for (const partNumber of [0, 10_001, -1, 1.5]) {
    expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: [{ partNumber }] }), 'validation_failed');
  }
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: [{ partNumber: 4 }] }), 'invalid_part_number');
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: [{ partNumber: 1, md5: 'AAAA' }] }), 'validation_failed');
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: [{ partNumber: 1, checksum: 'AAAAAA==' }] }), 'invalid_checksum');
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts: 'all' }), 'validation_failed');
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { parts: [{ partNumber: 1 }] }), 'validation_failed');
});

test('oversized bodies and odd paths', async () => {
  const path = `/api/uploads/${encodeURIComponent(upload.uploadId)}/parts`;
  const parts = Array.from({ length: 10_000 }, (_, i) => ({ partNumber: i + 1, md5: 'AAAAAAAAAAAAAAAAAAAAAA==', checksum: 'A'.repeat(88) }));
  expect4xx(await api<Json>(signer, 'alice', 'POST', path, { token: upload.token, parts }), 'payload_too_large');
  expect4xx(await api<Json>(signer, 'alice', 'GET', '/api/uploads/%E0%A4%A/parts'), 'bad_request');
  expect4xx(await api<Json>(signer, 'alice', 'GET', `/api/uploads/${'x'.repeat(2000)}/parts`), 'not_found');
  expect4xx(await api<Json>(signer, 'alice', 'PATCH', '/api/uploads'), 'method_not_allowed');
});

test('complete and list with a token but an upload the bucket does not know → 404', async () => {
  const { TokenSigner } = await import('@chute/signer');
  const { SECRETS } = await import('./helpers.js');
  const token = await new TokenSigner(SECRETS).sign({ typ: 'upload', exp: 2e9, k: 'uploads/alice/x/y', u: 'nope', s: 10, p: 5 * MiB, a: 'NONE', m: false, sub: 'alice' } as never);
  expect4xx(await api<Json>(signer, 'alice', 'GET', '/api/uploads/nope/parts', undefined, { 'chute-upload-token': token }), 'not_found');
  expect4xx(await api<Json>(signer, 'alice', 'POST', '/api/uploads/nope/complete', { token }), 'not_found');
});
