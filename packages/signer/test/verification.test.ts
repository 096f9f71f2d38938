// Verification after complete, against real local-r2 stores: one that keeps and returns
// CRC64NVME (R2's behaviour) and one that accepts and ignores every x-amz-checksum-* (like Ceph
// radosgw 16). An absent checksum lowers the level, never fails; a real difference fails with
// 409 verification_failed and the object is gone.
import { HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { MiB, partRange } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { createCRC32 } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, BUCKET, bytes, crc64nvme, md5b64, md5hex, send, signerFor, startStore } from './helpers.js';

type Json = any;
type Store = Awaited<ReturnType<typeof startStore>>;

let echoing: Store;
let silent: Store;
beforeAll(async () => {
  [echoing, silent] = await Promise.all([startStore(), startStore({ ignoreChecksums: true })]);
});
afterAll(async () => {
  await Promise.all([echoing?.close(), silent?.close()]);
});

const s3Of = (store: Store) =>
  new S3Client({
    region: 'auto',
    endpoint: store.r2.endpoint,
    forcePathStyle: true,
    credentials: store.r2.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

async function exists(store: Store, key: string): Promise<boolean> {
  try {
    await s3Of(store).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

async function crc32b64(b: Uint8Array): Promise<string> {
  const h = await createCRC32();
  h.init();
  h.update(b);
  return Buffer.from(h.digest('hex'), 'hex').toString('base64');
}

interface Run {
  algorithm?: 'CRC64NVME' | 'CRC32' | 'NONE';
  /** Content-MD5 per part (default true; COMPOSITE parts carry their own checksum). */
  md5?: boolean;
  /** Send the part ETags at complete (the engine always does). */
  sendEtags?: boolean;
  /** Send the full-object CRC64NVME at complete (default: the right one). */
  checksum?: string | false;
  /** Between the part PUTs and complete. */
  beforeComplete?: (c: Json, slices: Uint8Array[]) => Promise<void>;
}

/** create → sign → PUT every part → complete, as a browser would. */
async function upload(signer: Signer, file: Uint8Array, run: Run = {}) {
  const algorithm = run.algorithm ?? 'CRC64NVME';
  const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'v.bin', size: file.length, partSize: 5 * MiB, multipart: true, checksumAlgorithm: algorithm });
  expect(c.status, JSON.stringify(c.body)).toBe(201);
  const id = encodeURIComponent(c.body.uploadId);
  const slices = Array.from({ length: c.body.partCount }, (_, i) => {
    const r = partRange(i + 1, c.body.partSize, file.length);
    return file.subarray(r.start, r.end);
  });
  const parts = await Promise.all(
    slices.map(async (s, i) =>
      algorithm === 'CRC32' ? { partNumber: i + 1, checksum: await crc32b64(s) } : run.md5 === false ? { partNumber: i + 1 } : { partNumber: i + 1, md5: md5b64(s) },
    ),
  );
  const signed = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/parts`, { token: c.body.token, parts });
  expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  const puts = await Promise.all(signed.body.parts.map((p: Json, i: number) => send(p, slices[i])));
  expect(puts.map((r) => r.status)).toEqual(slices.map(() => 200));
  await run.beforeComplete?.(c.body, slices);
  const checksum = run.checksum === undefined ? (algorithm === 'CRC64NVME' ? await crc64nvme(file) : undefined) : run.checksum || undefined;
  const done = await api<Json>(signer, 'alice', 'POST', `/api/uploads/${id}/complete`, {
    token: c.body.token,
    ...(run.sendEtags === false ? {} : { parts: slices.map((s, i) => ({ partNumber: i + 1, etag: md5hex(s) })) }),
    ...(checksum ? { checksum } : {}),
  });
  return { c: c.body, done };
}

describe('a store that returns CRC64NVME (local-r2, like R2)', () => {
  test('verified by the full-object checksum; the size comes from HeadObject', async () => {
    const file = bytes(2 * 5 * MiB + 99);
    const { c, done } = await upload(signerFor(echoing.r2), file);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.verification.level).toBe('full-object-checksum');
    expect(done.body.verification.warning).toBeUndefined();
    expect(done.body.verification.checked).toEqual(
      expect.arrayContaining([`size ${file.length} from HeadObject`, expect.stringMatching(/^CRC64NVME .* equals the file's$/), expect.stringMatching(/^multipart ETag [0-9a-f]{32}-3 equals the MD5 of the 3 part MD5s$/)]),
    );
    expect(await exists(echoing, c.key)).toBe(true);
  });

  test('the object replaced between complete and the check (other bytes, other size) → 409 verification_failed, object removed', async () => {
    const file = bytes(5 * MiB + 10);
    // A second writer puts other bytes at the key right after CompleteMultipartUpload answers.
    const client = s3Of(echoing);
    const writer = s3Of(echoing);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CompleteMultipartUploadCommand') {
          const key = (args.input as { Key: string }).Key;
          await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes(file.length - 1) }));
        }
        return out;
      },
      { step: 'initialize', name: 'replaceAfterComplete' },
    );
    const signer = signerFor(echoing.r2, { s3: { bucket: BUCKET, client } });
    const { c, done } = await upload(signer, file);
    expect([done.status, done.body.error?.code], JSON.stringify(done.body)).toEqual([409, 'verification_failed']);
    expect(done.body.error.message).toMatch(/stored size is 5242889 bytes .* the file has 5242890/);
    expect(done.body.error.message).toMatch(/It was removed/);
    expect(done.body.error.details).toMatchObject({ key: c.key, removed: true });
    expect(await exists(echoing, c.key)).toBe(false);
    // Nothing listed under "My uploads".
    const mine = await api<Json>(signer, 'alice', 'GET', '/api/uploads');
    expect(mine.body.uploads.map((u: Json) => u.key)).not.toContain(c.key);
  });
});

describe('a store that ignores x-amz-checksum-* (local-r2 ignoreChecksums, like Ceph radosgw)', () => {
  test('Content-MD5 per part + multipart ETag + size → part-checksums-and-etag, never a failure', async () => {
    const file = bytes(2 * 5 * MiB + 1);
    const { c, done } = await upload(signerFor(silent.r2), file);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.checksum).toBeUndefined();
    expect(done.body.verification).toMatchObject({ level: 'part-checksums-and-etag' });
    expect(done.body.verification.checked).toEqual([
      `size ${file.length} from HeadObject`,
      expect.stringMatching(/^multipart ETag [0-9a-f]{32}-3 equals the MD5 of the 3 part MD5s$/),
      'every part was sent with a Content-MD5 the store enforces',
    ]);
    expect(await exists(silent, c.key)).toBe(true);
  });

  test('an empty ETag from CompleteMultipartUpload (radosgw does that): the ETag comes from HeadObject, still part-checksums-and-etag', async () => {
    const client = s3Of(silent);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CompleteMultipartUploadCommand') (out.output as { ETag?: string }).ETag = '';
        return out;
      },
      { step: 'initialize', name: 'emptyCompleteEtag' },
    );
    const { done } = await upload(signerFor(silent.r2, { s3: { bucket: BUCKET, client } }), bytes(5 * MiB + 2));
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.etag).toMatch(/^[0-9a-f]{32}-2$/);
    expect(done.body.verification.level).toBe('part-checksums-and-etag');
  });

  test('a wrong full-object CRC64NVME is accepted by such a store: it is not reported as checked', async () => {
    const { done } = await upload(signerFor(silent.r2), bytes(5 * MiB + 3), { checksum: 'AAAAAAAAAAA=' });
    expect(done.status).toBe(200);
    expect(done.body.verification.level).toBe('part-checksums-and-etag');
    expect(done.body.verification.checked.join(' ')).not.toMatch(/CRC64NVME/);
  });

  test('no per-part checksum, the client confirms its part ETags → etag-and-size with a warning', async () => {
    const lax = signerFor(silent.r2, { limits: { requireMd5: false } });
    const { done } = await upload(lax, bytes(5 * MiB + 7), { algorithm: 'NONE', md5: false });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.verification.level).toBe('etag-and-size');
    expect(done.body.verification.warning).toMatch(/did not check the parts as they arrived/);
  });

  test('nothing to compare (no per-part checksum, no part ETags from the client) → not-verifiable, stored, with a warning', async () => {
    const lax = signerFor(silent.r2, { limits: { requireMd5: false } });
    const { c, done } = await upload(lax, bytes(5 * MiB + 7), { algorithm: 'NONE', md5: false, sendEtags: false });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.verification.level).toBe('not-verifiable');
    expect(done.body.verification.checked).toEqual([`size ${5 * MiB + 7} from HeadObject`]);
    expect(done.body.verification.warning).toMatch(/^Stored, but not verifiable on this store/);
    expect(await exists(silent, c.key)).toBe(true);
  });

  test('a COMPOSITE (CRC32) upload whose parts the store lists without checksums completes (etag-and-size), not upload_incomplete', async () => {
    const { done } = await upload(signerFor(silent.r2), bytes(5 * MiB + 5), { algorithm: 'CRC32' });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.verification.level).toBe('etag-and-size');
  });

  test('a part overwritten with other bytes of the same size before complete → 409, no object', async () => {
    const file = bytes(5 * MiB + 10);
    const { c, done } = await upload(signerFor(silent.r2), file, {
      beforeComplete: async (created, slices) => {
        const other = bytes((slices[1] as Uint8Array).length);
        await s3Of(silent).send(new UploadPartCommand({ Bucket: BUCKET, Key: created.key, UploadId: created.uploadId, PartNumber: 2, Body: other }));
      },
    });
    expect([done.status, done.body.error?.code]).toEqual([409, 'checksum_mismatch']);
    expect(await exists(silent, c.key)).toBe(false);
  });

  test('the object replaced after complete by same-size bytes → 409 verification_failed (ETag), object removed', async () => {
    const file = bytes(5 * MiB + 10);
    const client = s3Of(silent);
    const writer = s3Of(silent);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CompleteMultipartUploadCommand') {
          await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: (args.input as { Key: string }).Key, Body: bytes(file.length) }));
        }
        return out;
      },
      { step: 'initialize', name: 'replaceAfterComplete' },
    );
    const { c, done } = await upload(signerFor(silent.r2, { s3: { bucket: BUCKET, client } }), file);
    expect([done.status, done.body.error?.code], JSON.stringify(done.body)).toEqual([409, 'verification_failed']);
    expect(done.body.error.message).toMatch(/the object was replaced/);
    expect(await exists(silent, c.key)).toBe(false);
  });
});

describe('POST /api/uploads/discard (the client found the object wrong)', () => {
  test('a single PUT: its discardToken removes the object only while its ETag is the one named, only for its owner', async () => {
    const signer = signerFor(echoing.r2);
    const file = bytes(1000);
    const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 's.bin', size: file.length, md5: md5b64(file) });
    expect([c.status, typeof c.body.discardToken]).toEqual([201, 'string']);
    expect((await send(c.body.request, file)).status).toBe(200);
    const other = await api<Json>(signer, 'alice', 'POST', '/api/uploads/discard', { token: c.body.discardToken, etag: '0'.repeat(32) });
    expect([other.status, other.body]).toEqual([200, { key: c.body.key, discarded: false }]);
    expect(await exists(echoing, c.body.key)).toBe(true);
    const bob = await api<Json>(signer, 'bob', 'POST', '/api/uploads/discard', { token: c.body.discardToken, etag: md5hex(file) });
    expect([bob.status, bob.body.error.code]).toEqual([403, 'forbidden']);
    const forged = await api<Json>(signer, 'alice', 'POST', '/api/uploads/discard', { token: `${c.body.discardToken}x`, etag: md5hex(file) });
    expect([forged.status, forged.body.error.code]).toEqual([403, 'invalid_token']);
    const ok = await api<Json>(signer, 'alice', 'POST', '/api/uploads/discard', { token: c.body.discardToken, etag: md5hex(file) });
    expect([ok.status, ok.body]).toEqual([200, { key: c.body.key, discarded: true }]);
    expect(await exists(echoing, c.body.key)).toBe(false);
  });

  test('a multipart upload: its upload token removes the completed object', async () => {
    const signer = signerFor(silent.r2);
    const { c, done } = await upload(signer, bytes(5 * MiB + 1));
    expect(done.status).toBe(200);
    const res = await api<Json>(signer, 'alice', 'POST', '/api/uploads/discard', { token: c.token, etag: done.body.etag });
    expect([res.status, res.body.discarded]).toEqual([200, true]);
    expect(await exists(silent, c.key)).toBe(false);
  });
});
