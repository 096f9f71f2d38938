import { MiB } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api, bytes, digest, md5b64, md5hex, send, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

// Drives the signer exactly as stock @uppy/aws-s3 6.3.1 (S3mini.ts) does in `signRequest` mode:
// one signRequest per operation, then the request to the returned URL with the returned headers,
// reading only what Uppy reads (regex XML: UploadId; Part/PartNumber+ETag; Location+Key; ETag header).
let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2);
});
afterAll(() => store.close());

const signRequest = async (who: 'alice' | 'bob', req: Record<string, unknown>) => {
  const r = await api<Json>(signer, who, 'POST', '/api/uppy/sign', req);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { url: string; key?: string; headers?: Record<string, string> };
};
// The self-URLs point at http://signer.test; send them to the signer core like the browser would.
const xhr = async (method: string, url: string, headers: Record<string, string> = {}, body?: Uint8Array | string) => {
  const res = url.startsWith('http://signer.test')
    ? await signer.fetch(new Request(url, { method, headers, ...(body !== undefined ? { body } : {}) }), { ip: '127.0.0.1' })
    : await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, text: await res.text(), etag: res.headers.get('etag'), type: res.headers.get('content-type') };
};
const tag = (xml: string, name: string) => new RegExp(`<${name}[^>]*>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];

test('multipart: create → parts (with Chute’s Content-MD5) → list → complete, byte-identical', async () => {
  const file = bytes(2 * 5 * MiB + 777);
  const create = await signRequest('alice', { method: 'POST', key: `${crypto.randomUUID()}-movie.mp4`, size: file.length, partSize: 5 * MiB });
  expect(create.key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/[0-9a-f-]{36}-movie\.mp4$/);
  const created = await xhr('POST', create.url, { 'content-type': 'video/mp4', ...create.headers });
  expect(created.status).toBe(200);
  const uploadId = tag(created.text, 'UploadId') as string;
  // The store's id wrapped in the signer's token: later requests prove their upload and layout.
  expect(uploadId).toMatch(/^chute1\./);
  const key = create.key as string;

  const chunk = 5 * MiB;
  const parts: { partNumber: number; etag: string }[] = [];
  for (let n = 1; n <= 3; n++) {
    const slice = file.subarray((n - 1) * chunk, Math.min(n * chunk, file.length));
    const signed = await signRequest('alice', { method: 'PUT', key, uploadId, partNumber: n, contentMd5: md5b64(slice), contentLength: slice.length });
    expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host');
    if (n === 2) {
      const corrupted = slice.slice();
      corrupted[7] = (corrupted[7] ?? 0) ^ 0xff;
      expect((await xhr('PUT', signed.url, signed.headers, corrupted)).status).toBe(400);
    }
    const put = await xhr('PUT', signed.url, signed.headers, slice);
    expect(put.status).toBe(200);
    expect(put.etag).toBe(`"${md5hex(slice)}"`);
    parts.push({ partNumber: n, etag: (put.etag as string).replace(/"/g, '') });
  }

  const list = await signRequest('alice', { method: 'GET', key, uploadId });
  const listed = await xhr('GET', list.url);
  expect(listed.status).toBe(200);
  expect(listed.text.match(/<Part>/g)).toHaveLength(3);
  expect(tag(listed.text, 'ETag')).toBe(`"${parts[0]?.etag}"`);

  const complete = await signRequest('alice', { method: 'POST', key, uploadId });
  const xml = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const done = await xhr('POST', complete.url, { 'content-type': 'application/xml' }, xml);
  expect(done.status, done.text).toBe(200);
  expect(tag(done.text, 'Key')).toBe(key);
  expect(tag(done.text, 'Location')).toContain('/chute-test/uploads/alice/');
  expect(tag(done.text, 'ETag')).toMatch(/^"[0-9a-f]{32}-3"$/);

  const d = await api<Json>(signer, 'alice', 'POST', '/api/downloads', { key });
  expect(digest(new Uint8Array(await (await send(d.body.request)).arrayBuffer()))).toBe(digest(file));
});

test('single PUT with a signed Content-Type, and abort', async () => {
  const file = bytes(100);
  const put = await signRequest('alice', { method: 'PUT', key: 'x-photo.png', contentType: 'image/png', contentLength: file.length });
  expect(put.headers).toEqual({ 'content-type': 'image/png' });
  expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
  expect((await xhr('PUT', put.url, { 'content-type': 'image/jpeg' }, file)).status).toBe(403);
  expect((await xhr('PUT', put.url, { 'content-type': 'application/octet-stream', ...put.headers }, file)).status).toBe(200);

  const create = await signRequest('alice', { method: 'POST', key: 'y.bin', size: 12 * MiB });
  const uploadId = tag((await xhr('POST', create.url, { 'content-type': 'application/octet-stream' })).text, 'UploadId') as string;
  const abort = await signRequest('alice', { method: 'DELETE', key: create.key as string, uploadId });
  expect((await xhr('DELETE', abort.url)).status).toBe(204);
  const list = await signRequest('alice', { method: 'GET', key: create.key as string, uploadId });
  const gone = await xhr('GET', list.url);
  expect(gone.status).toBe(404);
  expect(gone.type).toBe('application/xml');
  expect(tag(gone.text, 'Code')).toBe('not_found');
});

test('self-URLs are bound to their operation, user and key; forged or reused for another op → 403', async () => {
  const create = await signRequest('alice', { method: 'POST', key: 'z.bin', size: 12 * MiB });
  const uploadId = tag((await xhr('POST', create.url, { 'content-type': 'application/octet-stream' })).text, 'UploadId') as string;
  const list = await signRequest('alice', { method: 'GET', key: create.key as string, uploadId });
  // The list URL used as an abort URL.
  const asAbort = list.url.replace('/api/uppy/s3/parts', '/api/uppy/s3/abort');
  expect((await xhr('DELETE', asAbort)).status).toBe(403);
  const noToken = new URL(list.url);
  noToken.searchParams.delete('t');
  expect((await xhr('GET', noToken.toString())).status).toBe(401);
  const tampered = new URL(list.url);
  tampered.searchParams.set('t', `${tampered.searchParams.get('t')}x`);
  expect((await xhr('GET', tampered.toString())).status).toBe(403);
  // Bob cannot have his own URLs for alice's key.
  const r = await api<Json>(signer, 'bob', 'POST', '/api/uppy/sign', { method: 'GET', key: create.key, uploadId });
  expect(r.status).toBe(403);
  // Content types outside the policy are refused at create.
  const strict = signerFor(store.r2, { limits: { allowedContentTypes: ['image/*'] } });
  const c2 = await api<Json>(strict, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'e.exe', size: 10 });
  const refused = await strict.fetch(new Request(c2.body.url, { method: 'POST', headers: { 'content-type': 'application/x-msdownload' } }));
  expect(refused.status).toBe(415);
  expect(tag(await refused.text(), 'Code')).toBe('content_type_not_allowed');
});

test('layout bound: sizes required, each part signed only for its layout size, ids the signer never wrapped refused', async () => {
  const code = async (req: Record<string, unknown>, who: 'alice' | 'bob' = 'alice') => {
    const r = await api<Json>(signer, who, 'POST', '/api/uppy/sign', req);
    return `${r.status} ${r.body?.error?.code ?? ''}`.trim();
  };
  expect(await code({ method: 'PUT', key: 'a.bin' })).toBe('400 content_length_required');
  expect(await code({ method: 'POST', key: 'a.bin' })).toBe('400 content_length_required');
  expect(await code({ method: 'POST', key: 'a.bin', size: 10, headers: { 'x-amz-copy-source': 'x' } })).toBe('400 validation_failed');

  // 12 MiB with Uppy's default chunk maths: 5 MiB, 5 MiB, 2 MiB.
  const create = await signRequest('alice', { method: 'POST', key: 'm.bin', size: 12 * MiB });
  const uploadId = tag((await xhr('POST', create.url, { 'content-type': 'application/octet-stream' })).text, 'UploadId') as string;
  const key = create.key as string;
  expect(await code({ method: 'PUT', key, uploadId, partNumber: 4 })).toBe('400 invalid_part_number');
  expect(await code({ method: 'PUT', key, uploadId, partNumber: 1, contentLength: 6 * MiB })).toBe('400 invalid_part_size');
  expect(await code({ method: 'PUT', key, uploadId: uploadId.replace('chute1.', 'chute1.x') , partNumber: 1 })).toBe('400 invalid_upload_id');
  expect(await code({ method: 'PUT', key, uploadId: 'raw-store-id', partNumber: 1 })).toBe('400 invalid_upload_id');
  expect(await code({ method: 'PUT', key, uploadId, partNumber: 1 }, 'bob')).toBe('403 forbidden');
  // The same id moved to another of alice's keys.
  const other = await signRequest('alice', { method: 'POST', key: 'n.bin', size: 12 * MiB });
  expect(await code({ method: 'PUT', key: other.key, uploadId, partNumber: 1 })).toBe('403 forbidden');

  // Without contentLength the part is still signed for its layout size: one byte more is refused.
  const part3 = await signRequest('alice', { method: 'PUT', key, uploadId, partNumber: 3 });
  expect((await xhr('PUT', part3.url, part3.headers ?? {}, bytes(2 * MiB + 1))).status).toBe(403);
  expect((await xhr('PUT', part3.url, part3.headers ?? {}, bytes(2 * MiB))).status).toBe(200);

  // Complete must list parts 1..3: a 1-part complete of a 3-part upload is refused.
  const p1 = await signRequest('alice', { method: 'PUT', key, uploadId, partNumber: 1 });
  const put1 = await xhr('PUT', p1.url, p1.headers ?? {}, bytes(5 * MiB));
  const complete = await signRequest('alice', { method: 'POST', key, uploadId });
  const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${put1.etag}</ETag></Part></CompleteMultipartUpload>`;
  const done = await xhr('POST', complete.url, { 'content-type': 'application/xml' }, xml);
  expect([done.status, tag(done.text, 'Code')]).toEqual([409, 'upload_incomplete']);
});
