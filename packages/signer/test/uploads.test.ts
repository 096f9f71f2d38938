import { expandSignedParts, MiB, partRange, signPartsTemplateResponseSchema } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, crc64nvme, digest, md5b64, md5hex, send, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2, { limits: { multipartThreshold: 6 * MiB } });
});
afterAll(() => store.close());

async function readBack(key: string, who: 'alice' | 'bob' = 'alice'): Promise<Uint8Array> {
  const d = await api<Json>(signer, who, 'POST', '/api/downloads', { key });
  expect(d.status).toBe(200);
  const res = await send(d.body.request);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('single PUT', () => {
  test('create → PUT → download is byte-identical; wrong length, MD5 or type are refused by the bucket', async () => {
    const file = bytes(1000);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'hello.txt', type: 'text/plain', size: file.length, md5: md5b64(file) });
    expect(c.status).toBe(201);
    expect(c.body.type).toBe('single');
    const req = c.body.request;
    // The bucket enforces what was signed.
    expect((await send(req, bytes(1000))).status).toBe(400); // other bytes: Content-MD5 mismatch
    expect((await send(req, file.subarray(0, 999))).status).toBeGreaterThanOrEqual(400); // shorter
    expect((await send(req, new Uint8Array([...file, 1]))).status).toBeGreaterThanOrEqual(400); // one byte more
    expect((await send(req, file, { 'content-type': 'text/html' })).status).toBe(403); // other type
    const ok = await send(req, file);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe(`"${md5hex(file)}"`);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
  });

  test('the bucket refuses a URL after its lifetime (urlTtlSeconds)', async () => {
    const file = bytes(10);
    // A signer whose clock is 20 minutes behind signs URLs that expired 5 minutes ago (15-min lifetime).
    const past = signerFor(store.r2, { now: () => Date.now() - 20 * 60_000 });
    const c = await api<Json>(past, 'alice', 'POST', '/api/uploads', { name: 'late.txt', size: 10, md5: md5b64(file) });
    expect(new URL(c.body.request.url).searchParams.get('X-Amz-Expires')).toBe('900');
    const res = await send(c.body.request, file);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('ExpiredRequest');
  });

  test('an empty file', async () => {
    const file = new Uint8Array();
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'empty', size: 0, md5: md5b64(file) });
    expect(c.status).toBe(201);
    expect((await send(c.body.request, file)).status).toBe(200);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
  });
});

describe('multipart', () => {
  test('3 parts signed in one batch, in parallel, completed with the full-object CRC64NVME, read back identical', async () => {
    const file = bytes(2 * 5 * MiB + 12345);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'big.bin', type: 'application/octet-stream', size: file.length, partSize: 5 * MiB });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ type: 'multipart', partSize: 5 * MiB, partCount: 3, checksumAlgorithm: 'CRC64NVME', checksumType: 'FULL_OBJECT', md5Required: true });
    const id = encodeURIComponent(c.body.uploadId);
    const slices = [1, 2, 3].map((n) => {
      const r = partRange(n, c.body.partSize, file.length);
      return file.subarray(r.start, r.end);
    });
    const signed = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, {
      token: c.body.token,
      parts: slices.map((s, i) => ({ partNumber: i + 1, md5: md5b64(s) })),
    });
    expect(signed.status).toBe(200);
    expect(signed.body.parts.map((p: Json) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 12345],
    ]);
    for (const p of signed.body.parts) {
      expect(new URL(p.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host');
      // The create said where the parts go, so a client could connect there while they were signed.
      expect(new URL(p.url).origin).toBe(c.body.storeOrigin);
    }
    // The bucket refuses a part with one extra byte, one byte less, or other bytes.
    const third = slices[2] as Uint8Array;
    expect((await send(signed.body.parts[2], new Uint8Array([...third, 0]))).status).toBeGreaterThanOrEqual(400);
    expect((await send(signed.body.parts[2], third.subarray(1))).status).toBeGreaterThanOrEqual(400);
    const corrupted = third.slice();
    corrupted[0] = (corrupted[0] ?? 0) ^ 1;
    expect((await send(signed.body.parts[2], corrupted)).status).toBe(400);

    const puts = await Promise.all(signed.body.parts.map((p: Json, i: number) => send(p, slices[i])));
    expect(puts.map((r) => r.status)).toEqual([200, 200, 200]);
    const etags = puts.map((r) => r.headers.get('etag')?.replace(/"/g, ''));
    expect(etags).toEqual(slices.map(md5hex));

    const listed = await api<Json>(signer, 'alice', 'GET', `/api/uploads/${id}/parts`, undefined, { 'chute-upload-token': c.body.token });
    expect(listed.status).toBe(200);
    expect(listed.body.parts.map((p: Json) => [p.partNumber, p.etag, p.size])).toEqual(
      slices.map((s, i) => [i + 1, md5hex(s), s.length]),
    );

    const full = await crc64nvme(file);
    const done = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, {
      token: c.body.token,
      parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })),
      checksum: full,
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ key: c.body.key, size: file.length, checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: full } });
    expect(done.body.etag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
    // The upload is gone: a second complete is a clear 404.
    const again = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, { token: c.body.token });
    expect([again.status, again.body.error.code]).toEqual([404, 'not_found']);
  });

  test("format 'template': one URL template + a signature per part, expanding to the same URLs the bucket accepts", async () => {
    const file = bytes(2 * 5 * MiB + 777);
    // One fixed instant, so both answers carry the same X-Amz-Date and signatures.
    const at = Date.now();
    const fixed = signerFor(store.r2, { now: () => at, limits: { multipartThreshold: 6 * MiB } });
    const c = await api<Json>(fixed, 'alice', 'POST', '/api/uploads', { name: 'compact.bin', size: file.length, partSize: 5 * MiB });
    const id = encodeURIComponent(c.body.uploadId);
    const slices = [1, 2, 3].map((n) => {
      const r = partRange(n, c.body.partSize, file.length);
      return file.subarray(r.start, r.end);
    });
    const parts = slices.map((s, i) => ({ partNumber: i + 1, md5: md5b64(s) }));
    const urls = await api<Json>(fixed, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts });
    const compact = await api<Json>(fixed, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts, format: 'template' });
    expect(compact.status).toBe(200);
    const parsed = signPartsTemplateResponseSchema.parse(compact.body);
    expect(parsed.template.url).toContain('partNumber={partNumber}');
    expect(parsed.template.url.endsWith('X-Amz-Signature={signature}')).toBe(true);
    expect(JSON.stringify(compact.body).length).toBeLessThan(JSON.stringify(urls.body).length);
    const expanded = expandSignedParts(parsed);
    expect(expanded).toEqual(urls.body);
    // The expanded URLs are real: the bucket takes every part, and the object completes intact.
    const puts = await Promise.all(expanded.parts.map((p, i) => send(p, slices[i])));
    expect(puts.map((r) => r.status)).toEqual([200, 200, 200]);
    const done = await api<Json>(fixed, 'alice', 'POST', `/api/uploads/${id}/complete`, {
      token: c.body.token,
      parts: slices.map((s, i) => ({ partNumber: i + 1, etag: md5hex(s) })),
      checksum: await crc64nvme(file),
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
  });

  test("format 'template' falls back to URLs when the parts sign different headers", async () => {
    // Unchecked parts allowed (requireMd5 off): one part with Content-MD5, one without.
    const lax = signerFor(store.r2, { limits: { multipartThreshold: 6 * MiB, requireMd5: false } });
    const c = await api<Json>(lax, 'alice', 'POST', '/api/uploads', { name: 'mixed.bin', size: 10 * MiB, partSize: 5 * MiB, checksumAlgorithm: 'NONE' });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const id = encodeURIComponent(c.body.uploadId);
    const res = await api<Json>(lax, 'alice', 'POST', `/api/uploads/${id}/parts`, {
      token: c.body.token,
      parts: [{ partNumber: 1, md5: md5b64(bytes(5 * MiB)) }, { partNumber: 2 }],
      format: 'template',
    });
    expect(c.body.md5Required).toBe(false);
    expect(res.status).toBe(200);
    expect(res.body.template).toBeUndefined();
    expect(res.body.parts.map((p: Json) => new URL(p.url).searchParams.get('X-Amz-SignedHeaders'))).toEqual([
      'content-length;content-md5;host',
      'content-length;host',
    ]);
  });

  test('complete refuses missing parts, a wrong full-object checksum and ETags the client did not send', async () => {
    const file = bytes(5 * MiB + 10);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'x.bin', size: file.length, partSize: 5 * MiB, multipart: true });
    const id = encodeURIComponent(c.body.uploadId);
    const first = file.subarray(0, 5 * MiB);
    const last = file.subarray(5 * MiB);
    const s = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, {
      token: c.body.token,
      parts: [{ partNumber: 1, md5: md5b64(first) }, { partNumber: 2, md5: md5b64(last) }],
    });
    expect((await send(s.body.parts[0], first)).status).toBe(200);
    const missing = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, { token: c.body.token });
    expect([missing.status, missing.body.error.code, missing.body.error.details.missing]).toEqual([409, 'upload_incomplete', [2]]);
    expect((await send(s.body.parts[1], last)).status).toBe(200);
    const wrongEtag = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, {
      token: c.body.token,
      parts: [{ partNumber: 1, etag: md5hex(first) }, { partNumber: 2, etag: '0'.repeat(32) }],
    });
    expect([wrongEtag.status, wrongEtag.body.error.code]).toEqual([409, 'checksum_mismatch']);
    const wrongCrc = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, { token: c.body.token, checksum: 'AAAAAAAAAAA=' });
    expect(wrongCrc.status).toBeGreaterThanOrEqual(400);
    expect(wrongCrc.status).toBeLessThan(500);
    // Nothing was lost: the right checksum still completes.
    const ok = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, { token: c.body.token, checksum: await crc64nvme(file) });
    expect(ok.status).toBe(200);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
  });

  test('abort removes the upload; aborting twice is fine', async () => {
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'x.bin', size: 20 * MiB });
    const id = encodeURIComponent(c.body.uploadId);
    const h = { 'chute-upload-token': c.body.token };
    const a = await api<Json>(signer, 'alice', 'DELETE', `/api/uploads/${id}`, undefined, h);
    expect([a.status, a.body.aborted]).toEqual([200, true]);
    expect((await api<Json>(signer, 'alice', 'DELETE', `/api/uploads/${id}`, undefined, h)).status).toBe(200);
    const l = await api<Json>(signer, 'alice', 'GET', `/api/uploads/${id}/parts`, undefined, h);
    expect([l.status, l.body.error.code]).toEqual([404, 'not_found']);
  });

  test('a COMPOSITE (CRC32) upload needs one checksum per part, not MD5 too, and completes', async () => {
    const file = bytes(5 * MiB + 3);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'c.bin', size: file.length, partSize: 5 * MiB, checksumAlgorithm: 'CRC32', multipart: true });
    expect(c.body).toMatchObject({ checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE' });
    const id = encodeURIComponent(c.body.uploadId);
    expect(c.body.md5Required).toBe(false);
    const noSum = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts: [{ partNumber: 1, md5: md5b64(file.subarray(0, 5 * MiB)) }] });
    expect([noSum.status, noSum.body.error.code]).toEqual([400, 'checksum_required']);
    const two = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts: [{ partNumber: 1, md5: md5b64(file.subarray(0, 5 * MiB)), checksum: 'AAAAAA==' }] });
    expect([two.status, two.body.error.code]).toEqual([400, 'validation_failed']);
    const { createCRC32 } = await import('hash-wasm');
    const crc32 = async (b: Uint8Array) => {
      const h = await createCRC32();
      h.init();
      h.update(b);
      return Buffer.from(h.digest('hex'), 'hex').toString('base64');
    };
    const slices = [file.subarray(0, 5 * MiB), file.subarray(5 * MiB)];
    const s = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, {
      token: c.body.token,
      parts: await Promise.all(slices.map(async (b, i) => ({ partNumber: i + 1, checksum: await crc32(b) }))),
    });
    expect(s.status).toBe(200);
    expect(new URL(s.body.parts[0].url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-crc32');
    const puts = await Promise.all(s.body.parts.map((p: Json, i: number) => send(p, slices[i])));
    expect(puts.map((r) => r.status)).toEqual([200, 200]);
    const done = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, { token: c.body.token });
    expect(done.status).toBe(200);
    expect(done.body.checksum).toMatchObject({ algorithm: 'CRC32', type: 'COMPOSITE' });
    expect(done.body.checksum.value).toMatch(/-2$/);
    expect(digest(await readBack(c.body.key))).toBe(digest(file));
  });
});

describe('my uploads', () => {
  test('lists only the caller’s objects, with paging', async () => {
    const mine = await api<Json>(signer, 'bob', 'GET', '/api/uploads');
    expect(mine.body.uploads).toEqual([]);
    for (let i = 0; i < 3; i++) {
      const f = bytes(10 + i);
      const c = await api<Json>(signer, 'bob', 'POST', '/api/uploads', { name: `b${i}.txt`, size: f.length, md5: md5b64(f) });
      expect((await send(c.body.request, f)).status).toBe(200);
    }
    const page1 = await api<Json>(signer, 'bob', 'GET', '/api/uploads?limit=2');
    expect(page1.body.uploads).toHaveLength(2);
    expect(page1.body.nextCursor).toBeTruthy();
    const page2 = await api<Json>(signer, 'bob', 'GET', `/api/uploads?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(page2.body.uploads).toHaveLength(1);
    const all = [...page1.body.uploads, ...page2.body.uploads];
    expect(all.every((u: Json) => u.key.startsWith('uploads/bob/'))).toBe(true);
    expect(all.map((u: Json) => u.name).sort()).toEqual(['b0.txt', 'b1.txt', 'b2.txt']);
    const bad = await api<Json>(signer, 'bob', 'GET', '/api/uploads?limit=0');
    expect(bad.status).toBe(400);
  });
  test('download with a file name: the bucket serves it as an attachment', async () => {
    const f = bytes(5);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'r.bin', size: 5, md5: md5b64(f) });
    expect((await send(c.body.request, f)).status).toBe(200);
    const d = await api<Json>(signer, 'alice', 'POST', '/api/downloads', { key: c.body.key, filename: 'Résumé "final".pdf' });
    expect(d.status).toBe(200);
    const res = await send(d.body.request);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`);
  });
  test('download of a missing object is a 404', async () => {
    const r = await api<Json>(signer, 'alice', 'POST', '/api/downloads', { key: 'uploads/alice/nope' });
    expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
  });
});
