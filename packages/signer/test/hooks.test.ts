import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { MiB, partRange } from '@chute/protocol';
import { type UploadEvent, type UploadCreateEvent, signWebhook, verifyWebhook, WebhookVerificationError } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, BUCKET, bytes, crc64nvme, md5b64, send, signerFor, startStore } from './helpers.js';

type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let s3: S3Client;
beforeAll(async () => {
  store = await startStore();
  s3 = new S3Client({ endpoint: store.r2.endpoint, region: 'auto', forcePathStyle: true, credentials: store.r2.credentials });
});
afterAll(async () => {
  s3.destroy();
  await store.close();
});

/** A 2-part upload through the Chute API, completed with its parts' ETags and CRC64NVME. */
async function multipart(signer: ReturnType<typeof signerFor>, name = 'two.bin') {
  const file = bytes(5 * MiB + 100);
  const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name, type: 'application/pdf', size: file.length, partSize: 5 * MiB, multipart: true });
  expect(c.status).toBe(201);
  const id = encodeURIComponent(c.body.uploadId);
  const slices = [1, 2].map((n) => {
    const r = partRange(n, 5 * MiB, file.length);
    return file.subarray(r.start, r.end);
  });
  const signed = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts: slices.map((s, i) => ({ partNumber: i + 1, md5: md5b64(s) })) });
  const etags = await Promise.all(signed.body.parts.map(async (p: Json, i: number) => (await send(p, slices[i])).headers.get('etag')?.replaceAll('"', '')));
  const done = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, {
    token: c.body.token,
    parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })),
    checksum: await crc64nvme(file),
  });
  return { c, done, file };
}

describe('onUploadCreate', () => {
  test('refuses with 403 upload_refused and the app\u2019s sentence; nothing is created or charged', async () => {
    const seen: UploadCreateEvent[] = [];
    const signer = signerFor(store.r2, {
      onUploadCreate: (e) => {
        seen.push(e);
        return e.contentType === 'application/x-msdownload' ? { refuse: 'No executables, please.' } : undefined;
      },
    });
    const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'setup.exe', type: 'application/x-msdownload', size: 10, md5: md5b64(bytes(10)) });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: 'upload_refused', message: 'No executables, please.' });
    expect(seen[0]).toMatchObject({ userId: 'alice', name: 'setup.exe', size: 10, multipart: false, via: 'chute', prefix: 'uploads/alice/' });
    expect(seen[0]?.key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/setup\.exe$/);
    const ok = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.txt', type: 'text/plain', size: 10, md5: md5b64(bytes(10)) });
    expect(ok.status).toBe(201);
  });

  test('renames the key (under the prefix) and sets metadata; both reach the bucket, the single PUT\u2019s URL and the multipart object', async () => {
    const signer = signerFor(store.r2, {
      onUploadCreate: (e) => ({ key: `${e.prefix}invoices/${e.size}-${e.multipart ? 'm' : 's'}.pdf`, metadata: { ...e.metadata, 'app-id': 'inv-42' } }),
    });
    const file = bytes(100);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'x.pdf', type: 'application/pdf', size: 100, md5: md5b64(file), metadata: { from: 'client' } });
    expect(c.body.key).toBe('uploads/alice/invoices/100-s.pdf');
    expect((await send(c.body.request, file)).status).toBe(200);
    // A single PUT's metadata is signed into the URL (query); multipart's is set at create.
    const q = new URL(c.body.request.url).searchParams;
    expect([q.get('x-amz-meta-from'), q.get('x-amz-meta-app-id')]).toEqual(['client', 'inv-42']);
    const m = await multipart(signer);
    expect(m.done.status).toBe(200);
    expect(m.done.body.key).toBe(`uploads/alice/invoices/${m.file.length}-m.pdf`);
    const mh = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: m.done.body.key }));
    expect(mh.Metadata).toEqual({ 'app-id': 'inv-42' });
  });

  test('a key outside the caller\u2019s prefix or bad metadata from the hook is the app\u2019s bug: 500, never signed', async () => {
    const errors: unknown[] = [];
    for (const decision of [{ key: 'uploads/bob/stolen.bin' }, { key: 'uploads/alice/../bob/x' }, { metadata: { 'Bad Key': 'x' } }]) {
      const signer = signerFor(store.r2, { onUploadCreate: () => decision, onResponse: (i) => errors.push(i.error) });
      const r = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a', size: 1, md5: md5b64(bytes(1)) });
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('internal_error');
    }
    expect(String(errors[0])).toContain('not a valid key under uploads/alice/');
  });
});

describe('onUploadComplete / onUploadAbort', () => {
  test('complete fires after verification with user, key, size, checksum, type and level; stable id', async () => {
    const events: UploadEvent[] = [];
    const completing: string[] = [];
    const signer = signerFor(store.r2, { onUploadCompleting: (e) => void completing.push(e.id), onUploadComplete: (e) => void events.push(e) });
    const { done, file } = await multipart(signer);
    expect(done.status).toBe(200);
    expect(events).toHaveLength(1);
    const e = events[0] as Json;
    expect(e).toMatchObject({
      type: 'upload.completed',
      userId: 'alice',
      key: done.body.key,
      size: file.length,
      etag: done.body.etag,
      contentType: 'application/pdf',
      checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: await crc64nvme(file) },
      verification: { level: 'full-object-checksum' },
      via: 'chute',
    });
    expect(e.id).toMatch(/^evt_[A-Za-z0-9_-]{32}$/);
    // The intent before the store's complete carries the id the completion gets.
    expect(completing).toEqual([e.id]);
  });

  test('a throwing onUploadCompleting fails the complete before the store completes anything', async () => {
    const signer = signerFor(store.r2, {
      onUploadCompleting: () => {
        throw new Error('outbox full');
      },
      onResponse: () => {},
    });
    const { c, done } = await multipart(signer);
    expect([done.status, done.body.error.code]).toEqual([500, 'internal_error']);
    const listed = await api<Json>(signerFor(store.r2), 'alice', 'GET', '/api/uploads?limit=1000');
    expect(listed.body.uploads.map((u: Json) => u.key)).not.toContain(c.body.key);
    // Still an open multipart upload: the client can complete it again.
    const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(open.Uploads?.map((u) => u.Key)).toContain(c.body.key);
  });

  test('a throwing complete hook does not fail the upload (reported to onHookError)', async () => {
    const reported: unknown[] = [];
    const signer = signerFor(store.r2, {
      onUploadComplete: () => {
        throw new Error('db down');
      },
      onHookError: (err) => reported.push(err),
    });
    const { done } = await multipart(signer);
    expect(done.status).toBe(200);
    expect(String(reported[0])).toContain('db down');
  });

  test('abort fires with the same id each time it is called', async () => {
    const events: UploadEvent[] = [];
    const signer = signerFor(store.r2, { onUploadAbort: (e) => void events.push(e) });
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'gone.bin', size: 6 * MiB, multipart: true });
    const path = `/api/uploads/${encodeURIComponent(c.body.uploadId)}`;
    for (let i = 0; i < 2; i++) expect((await api(signer, 'alice', 'DELETE', path, undefined, { 'chute-upload-token': c.body.token })).status).toBe(200);
    expect(events.map((e) => [e.type, e.key, e.userId])).toEqual([
      ['upload.aborted', c.body.key, 'alice'],
      ['upload.aborted', c.body.key, 'alice'],
    ]);
    expect(events[0]?.id).toBe(events[1]?.id);
  });

  test('stock Uppy: create hook may rename; complete fires after the server-side complete', async () => {
    const events: UploadEvent[] = [];
    const signer = signerFor(store.r2, {
      onUploadCreate: (e) => (e.via === 'uppy' ? { key: `${e.prefix}uppy/${e.name}` } : undefined),
      onUploadComplete: (e) => void events.push(e),
    });
    const file = bytes(5 * MiB + 7);
    const created = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'u.bin', contentType: 'application/pdf', size: file.length, partSize: 5 * MiB });
    expect(created.body.key).toBe('uploads/alice/uppy/u.bin');
    // The self-URLs point at the signer: call them through signer.fetch.
    const self = (url: string, method: string, body?: string, headers: Record<string, string> = {}) =>
      signer.fetch(new Request(url, { method, headers, ...(body ? { body } : {}) }), { ip: '127.0.0.1' });
    const xml = await (await self(created.body.url, 'POST', undefined, { 'content-type': 'application/pdf' })).text();
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(xml)?.[1] as string;
    const etags: string[] = [];
    for (const n of [1, 2]) {
      const r = partRange(n, 5 * MiB, file.length);
      const slice = file.subarray(r.start, r.end);
      const s = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'PUT', key: created.body.key, uploadId, partNumber: n, contentLength: slice.length });
      const put = await fetch(s.body.url, { method: 'PUT', headers: s.body.headers ?? {}, body: slice });
      etags.push(put.headers.get('etag') as string);
    }
    const comp = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: created.body.key, uploadId });
    const body = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    expect((await self(comp.body.url, 'POST', body)).status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'upload.completed', via: 'uppy', key: 'uploads/alice/uppy/u.bin', size: file.length, contentType: 'application/pdf', userId: 'alice' });
  });
});

describe('verifyWebhook', () => {
  const secret = 'whsec_' + Buffer.from('k'.repeat(32)).toString('base64');
  const body = JSON.stringify({ id: 'evt_1', type: 'upload.completed', key: 'uploads/alice/x' });

  test('accepts what signWebhook signed, with either rotated secret', async () => {
    const headers = await signWebhook({ id: 'evt_1', body, secret });
    await expect(verifyWebhook({ body, headers, secret })).resolves.toMatchObject({ id: 'evt_1', event: { key: 'uploads/alice/x' } });
    await expect(verifyWebhook({ body, headers: new Headers(headers), secret: ['another-secret-of-32-bytes-or-more!!', secret] })).resolves.toMatchObject({ id: 'evt_1' });
  });

  test('refuses tampered bodies, other ids, other secrets, replays outside the window, missing headers', async () => {
    const headers = await signWebhook({ id: 'evt_1', body, secret });
    const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e) => (e instanceof WebhookVerificationError ? e.reason : String(e)));
    expect(await reason(verifyWebhook({ body: body.replace('alice', 'mallory'), headers, secret }))).toBe('bad_signature');
    expect(await reason(verifyWebhook({ body, headers: { ...headers, 'webhook-id': 'evt_2' }, secret }))).toBe('bad_signature');
    expect(await reason(verifyWebhook({ body, headers, secret: 'whsec_' + Buffer.from('x'.repeat(32)).toString('base64') }))).toBe('bad_signature');
    expect(await reason(verifyWebhook({ body, headers: { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }, secret }))).toBe('bad_signature');
    expect(await reason(verifyWebhook({ body, headers, secret, nowMs: Date.now() + 301_000 }))).toBe('too_old');
    expect(await reason(verifyWebhook({ body, headers, secret, nowMs: Date.now() - 301_000 }))).toBe('too_new');
    expect(await reason(verifyWebhook({ body, headers: { 'webhook-id': 'evt_1' }, secret }))).toBe('missing_headers');
    // A valid signature over a body naming another event id.
    const other = JSON.stringify({ id: 'evt_9' });
    expect(await reason(verifyWebhook({ body: other, headers: await signWebhook({ id: 'evt_1', body: other, secret }), secret }))).toBe('bad_body');
  });
});
