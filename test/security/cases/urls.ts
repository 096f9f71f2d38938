// Holes 2, 3, 11 and 13 (types): every URL signs an exact length and the checksum the policy
// requires, on the Chute path and the stock-Uppy path; part signing is bounded; keys stay valid.
import { describe } from 'vitest';
import type { Env } from '../lib/env.js';
import { bytes, createMultipart, createSingle, md5, send, signPart, uppySign } from '../lib/flows.js';
import { api, raw } from '../lib/http.js';
import { BUCKET, bearer } from '../lib/servers.js';
import { answerOf, attack, refusedWith, stored, storedParts } from '../lib/suite.js';

const MiB = 1024 * 1024;
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';

/** Stock-Uppy multipart create through Chute's signer, as Chute's helper does it. */
async function uppyCreate(base: string, size: number, partSize: number) {
  const signed = await uppySign(base, 'mallory', { method: 'POST', key: 'movie.bin', size, partSize });
  if (signed.status !== 200) throw new Error(`uppy create sign: ${signed.status} ${signed.text}`);
  const init = await raw(signed.json.url as string, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...((signed.json.headers as Record<string, string>) ?? {}) } });
  if (init.status !== 200) throw new Error(`uppy create: ${init.status} ${init.text}`);
  return { key: signed.json.key as string, uploadId: tag(init.text, 'UploadId') };
}

export function urlCases(env: () => Env): void {
  const base = () => env().main.url;

  describe('2. every URL signs an exact Content-Length (Chute path and stock Uppy)', () => {
    attack('2', 'stock Uppy: single PUT signed without contentLength', async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: 'a.bin', contentType: 'application/octet-stream' }), 400, 'content_length_required'),
    );
    attack('2', 'stock Uppy: single PUT of 25 MB under a 20 MB limit', async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: 'a.bin', contentType: 'application/octet-stream', contentLength: 25_000_000 }), 413, 'file_too_large'),
    );
    attack('2', 'stock Uppy: single PUT URL for 1000 bytes sent 1001', async () => {
      const s = await uppySign(base(), 'mallory', { method: 'PUT', key: 'a.bin', contentType: 'application/octet-stream', contentLength: 1000 });
      if (s.status !== 200) return { answer: answerOf(s), refused: false };
      const a = await raw(s.json.url as string, { method: 'PUT', headers: { ...(s.json.headers as Record<string, string>), 'content-length': '1001' }, body: bytes(1001) });
      return { ...refusedWith(a, 403, 'SignatureDoesNotMatch'), refused: a.status >= 400 && (await stored(env().store.s3, BUCKET, s.json.key as string)) === null };
    });
    attack('2', 'stock Uppy: multipart create without the file size', async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'POST', key: 'movie.bin' }), 400, 'content_length_required'),
    );
    attack('2', 'stock Uppy: multipart create of 25 MB under a 20 MB limit', async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'POST', key: 'movie.bin', size: 25_000_000, partSize: 5 * MiB }), 413, 'file_too_large'),
    );
    attack('2', 'stock Uppy: part signed without contentLength, sent one byte larger than its layout size', async () => {
      const up = await uppyCreate(base(), 12 * MiB, 5 * MiB);
      const s = await uppySign(base(), 'mallory', { method: 'PUT', key: up.key, uploadId: up.uploadId, partNumber: 1 });
      if (s.status !== 200) return { answer: answerOf(s), refused: false };
      const a = await raw(s.json.url as string, { method: 'PUT', headers: { ...((s.json.headers as Record<string, string>) ?? {}) }, body: bytes(5 * MiB + 1) });
      // The store may refuse before reading the body and close the socket (status 0, EPIPE):
      // what counts is that no part was stored.
      const list = await uppySign(base(), 'mallory', { method: 'GET', key: up.key, uploadId: up.uploadId });
      const listed = await raw(list.json.url as string, { method: 'GET' });
      return { ...refusedWith(a, [0, 403]), refused: a.status !== 200 && listed.status === 200 && !listed.text.includes('<Part>') };
    });
    attack('2', 'stock Uppy: part number beyond the upload layout', async () => {
      const up = await uppyCreate(base(), 12 * MiB, 5 * MiB);
      return refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: up.key, uploadId: up.uploadId, partNumber: 4 }), 400, 'invalid_part_number');
    });
    attack('2', 'stock Uppy: part 1 claimed at 6 MiB in a 5 MiB layout', async () => {
      const up = await uppyCreate(base(), 12 * MiB, 5 * MiB);
      return refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: up.key, uploadId: up.uploadId, partNumber: 1, contentLength: 6 * MiB }), 400, 'invalid_part_size');
    });
    attack('2', 'stock Uppy: an upload id the signer never wrapped (from the Chute path)', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      return refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: up.key, uploadId: up.uploadId, partNumber: 1 }), 400, 'invalid_upload_id');
    });
    attack('2', "stock Uppy: mallory signs a part of alice's upload", async () => {
      const alice = await uppySign(base(), 'alice', { method: 'POST', key: 'movie.bin', size: 12 * MiB, partSize: 5 * MiB });
      const init = await raw(alice.json.url as string, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
      const a = await uppySign(base(), 'mallory', { method: 'PUT', key: alice.json.key as string, uploadId: tag(init.text, 'UploadId'), partNumber: 1 });
      return refusedWith(a, 403, 'forbidden');
    });
    attack('2', 'Chute path: single PUT URL sent one byte more than signed', async () => {
      const body = bytes(1000);
      const own = await createSingle(base(), 'mallory', body);
      const a = await send(own.put, Buffer.concat([body, Buffer.from('x')]));
      return { ...refusedWith(a, 403), refused: a.status >= 400 && (await stored(env().store.s3, BUCKET, own.key)) === null };
    });
    attack('2', 'Chute path: part URL sent one byte less than its layout size', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      const body = bytes(5 * MiB);
      const p = await signPart(base(), 'mallory', up.uploadId, up.token, 1, body);
      const a = await send(p, body.subarray(1));
      const parts = await storedParts(env().store.s3, BUCKET, up.key, up.uploadId);
      return { ...refusedWith(a, [0, 400, 403]), refused: a.status !== 200 && parts.length === 0 };
    });
    attack('2', 'Chute path: same length, other bytes than the signed Content-MD5', async () => {
      const body = bytes(1000);
      const own = await createSingle(base(), 'mallory', body);
      const a = await send(own.put, bytes(1000));
      return { ...refusedWith(a, 400, 'BadDigest'), refused: a.status === 400 && (await stored(env().store.s3, BUCKET, own.key)) === null };
    });
    attack('2', 'Chute path: a single PUT without any checksum', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), { name: 'a.bin', type: 'application/octet-stream', size: 10, multipart: false }), 400, 'checksum_required'),
    );
    attack('2', 'Chute path: complete before the parts are all there', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      const body = bytes(5 * MiB);
      await send(await signPart(base(), 'mallory', up.uploadId, up.token, 1, body), body);
      return refusedWith(await api(base(), 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/complete`, bearer('mallory'), { token: up.token }), 409, 'upload_incomplete');
    });
  });

  describe('3. part signing is bounded', () => {
    attack('3', '10,000 copies of part 1 in one request', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      const parts = Array.from({ length: 10_000 }, () => ({ partNumber: 1, md5: md5(Buffer.alloc(1)) }));
      return refusedWith(await api(base(), 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, bearer('mallory'), { token: up.token, parts }), 400, 'validation_failed');
    });
    attack('3', 're-signing the same 3 parts 20 times (rate limit off): the upload’s own URL budget stops it', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      const parts = [1, 2, 3].map((partNumber) => ({ partNumber, md5: md5(Buffer.alloc(1)) }));
      let signedUrls = 0;
      let last = { status: 0, code: undefined as string | undefined };
      for (let i = 0; i < 20 && last.status !== 429; i++) {
        last = await api(base(), 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, bearer('mallory'), { token: up.token, parts });
        if (last.status === 200) signedUrls += 3;
      }
      return { ...refusedWith(last as never, 429, 'quota_exceeded'), answer: `${signedUrls} URLs signed, then ${answerOf(last)}` };
    });
    attack('3', 'part numbers beyond the upload part count', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      return refusedWith(
        await api(base(), 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, bearer('mallory'), { token: up.token, parts: [{ partNumber: 4, md5: md5(Buffer.alloc(1)) }] }),
        400,
        'invalid_part_number',
      );
    });
    attack('3', 'signed URLs count against the rate budget (a user signing many parts is limited)', async () => {
      const l = env().limited.url;
      const up = await createMultipart(l, 'alice', 60 * MiB);
      const parts = Array.from({ length: up.partCount }, (_, i) => ({ partNumber: i + 1, md5: md5(Buffer.alloc(1)) }));
      let last = { status: 0, code: undefined as string | undefined };
      for (let i = 0; i < 5 && last.status !== 429; i++) {
        last = await api(l, 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, bearer('alice'), { token: up.token, parts });
      }
      return refusedWith(last as never, 429, 'rate_limited');
    });
  });

  describe('11. keys longer than S3 allows', () => {
    attack('11', 'a user id whose key prefix alone exceeds 1024 bytes (Chute path)', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('long'), { name: 'a.bin', type: 'application/octet-stream', size: 12 * MiB, multipart: true }), 400, 'key_too_long'),
    );
    attack('11', 'the same user id on the stock-Uppy path', async () =>
      refusedWith(await uppySign(base(), 'long', { method: 'POST', key: 'a.bin', size: 12 * MiB, partSize: 5 * MiB }), 400, 'key_too_long'),
    );
  });

  describe('13. scriptable types behind wildcards', () => {
    attack('13', 'image/svg+xml under ALLOWED_CONTENT_TYPES=image/*', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), { name: 'a.svg', type: 'image/svg+xml', size: 10, md5: md5(Buffer.alloc(10)) }), 415, 'content_type_not_allowed'),
    );
    attack('13', 'image/svg+xml through stock-Uppy single PUT', async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'PUT', key: 'a.svg', contentType: 'image/svg+xml', contentLength: 10 }), 415, 'content_type_not_allowed'),
    );
    attack('13', 'text/html (not in the allow-list)', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), { name: 'a.html', type: 'text/html', size: 10, md5: md5(Buffer.alloc(10)) }), 415, 'content_type_not_allowed'),
    );
  });
}
