// POST /api/uploads/batch against a real local-r2: every file gets what POST /api/uploads would
// give it (a PUT the bucket enforces), in order; a refused file does not stop the others.
import { MAX_CREATES_PER_BATCH, MiB } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, digest, md5b64, md5hex, send, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let signer: Signer;
beforeAll(async () => {
  store = await startStore();
  signer = signerFor(store.r2, { limits: { multipartThreshold: 6 * MiB, allowedContentTypes: ['image/*', 'text/plain'] } });
});
afterAll(() => store.close());

async function readBack(s: Signer, key: string): Promise<Uint8Array> {
  const d = await api<Json>(s, 'alice', 'POST', '/api/downloads', { key });
  return new Uint8Array(await (await send(d.body.request)).arrayBuffer());
}

describe('batch create', () => {
  test('each file gets its own enforced PUT; refused files get their own error, in order', async () => {
    const files = [bytes(1000), bytes(0), bytes(2000)];
    const res = await api<Json>(signer, 'alice', 'POST', '/api/uploads/batch', {
      files: [
        { name: 'a.txt', type: 'text/plain', size: files[0]?.length, md5: md5b64(files[0] as Uint8Array) },
        { name: 'movie.mp4', type: 'video/mp4', size: 10, md5: md5b64(bytes(10)) },
        { name: 'empty.png', type: 'image/png', size: 0, md5: md5b64(files[1] as Uint8Array) },
        { name: 'big.png', type: 'image/png', size: 7 * MiB },
        { name: 'forced.png', type: 'image/png', size: 10, multipart: true },
        { name: 'b.png', type: 'image/png', size: files[2]?.length, md5: md5b64(files[2] as Uint8Array) },
      ],
    });
    expect(res.status).toBe(200);
    const r = res.body.results;
    expect(r).toHaveLength(6);
    expect(r[1].error.code).toBe('content_type_not_allowed');
    expect(r[3].error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^files\.3: a batch creates single PUTs only/) });
    expect(r[4].error.code).toBe('validation_failed');
    const made = [r[0], r[2], r[5]];
    for (const m of made) expect(m.upload).toMatchObject({ type: 'single', key: expect.stringMatching(/^uploads\/alice\//), discardToken: expect.any(String) });
    expect(new Set(made.map((m) => m.upload.key)).size).toBe(3);
    // The bucket enforces what was signed for each file: another file's bytes are refused.
    expect((await send(made[0].upload.request, bytes(1000))).status).toBe(400); // same size, other bytes: Content-MD5
    for (const [i, m] of made.entries()) {
      const ok = await send(m.upload.request, files[i]);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('etag')).toBe(`"${md5hex(files[i] as Uint8Array)}"`);
      expect(digest(await readBack(signer, m.upload.key))).toBe(digest(files[i] as Uint8Array));
    }
  });

  test('the batch itself: credentials, shape and size are checked as a whole', async () => {
    const one = { name: 'x.txt', type: 'text/plain', size: 1, md5: md5b64(bytes(1)) };
    expect((await api<Json>(signer, 'nobody', 'POST', '/api/uploads/batch', { files: [one] })).status).toBe(401);
    const empty = await api<Json>(signer, 'alice', 'POST', '/api/uploads/batch', { files: [] });
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    const many = await api<Json>(signer, 'alice', 'POST', '/api/uploads/batch', { files: Array(MAX_CREATES_PER_BATCH + 1).fill(one) });
    expect(many.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/files/) });
    // A field nobody signs is refused, not ignored (as for one create).
    const extra = await api<Json>(signer, 'alice', 'POST', '/api/uploads/batch', { files: [{ ...one, copySource: 'bob/secret' }] });
    expect(extra.body.error.code).toBe('validation_failed');
  });

  test('rate limits count one request and one URL per file: the files past the budget are refused on their own', async () => {
    const limited = signerFor(store.r2, { rateLimit: { capacity: 4, refillPerSecond: 0.001 } });
    const one = { name: 'x.txt', size: 1, md5: md5b64(bytes(1)) };
    const res = await api<Json>(limited, 'alice', 'POST', '/api/uploads/batch', { files: [one, one, one, one, one] });
    expect(res.status).toBe(200);
    // 4 points: 1 for the request, then 1 per signed URL.
    expect(res.body.results.map((x: Json) => x.upload?.type ?? x.error.code)).toEqual(['single', 'single', 'single', 'rate_limited', 'rate_limited']);
  });

  test("the create hook decides per file; its bug is one file's internal_error, logged through onResponse", async () => {
    const seen: Json[] = [];
    const hooked = signerFor(store.r2, {
      onUploadCreate: (c) =>
        c.name.startsWith('no') ? { refuse: 'not this one' } : c.name.startsWith('bug') ? { key: 'uploads/bob/stolen' } : { metadata: { checked: 'yes' } },
      onResponse: (info) => seen.push(info),
    });
    const one = (name: string) => ({ name, size: 1, md5: md5b64(bytes(1)) });
    const res = await api<Json>(hooked, 'alice', 'POST', '/api/uploads/batch', { files: [one('ok.bin'), one('no.bin'), one('bug.bin')] });
    expect(new URL(res.body.results[0].upload.request.url).searchParams.get('x-amz-meta-checked')).toBe('yes');
    expect(res.body.results[1].error).toMatchObject({ code: 'upload_refused', message: 'not this one' });
    expect(res.body.results[2].error).toEqual({ code: 'internal_error', message: expect.stringMatching(/unexpectedly/) });
    expect(seen).toEqual([expect.objectContaining({ route: '/api/uploads/batch', status: 200, error: expect.any(TypeError) })]);
  });
});
