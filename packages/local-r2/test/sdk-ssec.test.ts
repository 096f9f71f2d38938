import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, type Harness, harness, MiB, md5hex, random, signedFetch, errorOf, bytesOf } from './helpers.js';
import { sdk } from './sdk.js';

const {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

const KEY = random(32);
const OTHER = random(32);
const ssec = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as unknown as string });
const copySsec = (key: Buffer) => ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key as unknown as string });

/** Every data file's bytes, to prove plaintext never reaches the disk. */
async function allBlobs(): Promise<Buffer[]> {
  const root = join(h.dir, 'blobs');
  const out: Buffer[] = [];
  for (const shard of await readdir(root)) for (const f of await readdir(join(root, shard))) out.push(await readFile(join(root, shard, f)));
  return out;
}

describe('SSE-C with @aws-sdk/client-s3', () => {
  it('PutObject/GetObject/HeadObject with SSE-C: encrypted at rest, ranges decrypt, key echoed as MD5', async () => {
    const body = random(100_003);
    const put = await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'enc/a', Body: body, ...ssec(KEY) }));
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    expect(put.SSECustomerKeyMD5).toBe(Buffer.from(md5hex(KEY), 'hex').toString('base64'));
    // No data file holds the plaintext (nor any 32-byte run of it), and none holds the key.
    for (const f of await allBlobs()) {
      expect(f.includes(body.subarray(5000, 5032))).toBe(false);
      expect(f.includes(KEY)).toBe(false);
    }
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/a', ...ssec(KEY) }));
    expect((await bytesOf(got.Body)).equals(body)).toBe(true);
    expect(got.SSECustomerAlgorithm).toBe('AES256');
    for (const [a, b] of [[0, 15], [17, 70_001], [99_990, 100_002], [16, 31]] as const) {
      const r = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/a', Range: `bytes=${a}-${b}`, ...ssec(KEY) }));
      expect((await bytesOf(r.Body)).equals(body.subarray(a, b + 1))).toBe(true);
    }
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'enc/a', ...ssec(KEY) }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(`"${md5hex(body)}"`);
    // The key verifier is private: no response carries it.
    const raw = await signedFetch(h.r2.endpoint, {
      method: 'HEAD',
      path: '/test/enc/a',
      headers: {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        'x-amz-server-side-encryption-customer-key': KEY.toString('base64'),
        'x-amz-server-side-encryption-customer-key-md5': Buffer.from(md5hex(KEY), 'hex').toString('base64'),
      },
    });
    expect(raw.status).toBe(200);
    expect([...raw.headers.keys()].filter((k) => k.startsWith('x-local-r2'))).toEqual([]);
    // The SDK's default client sends aws-chunked bodies with a CRC32 trailer: decoded, then encrypted.
    await h.s3Default.send(new PutObjectCommand({ Bucket: 'test', Key: 'enc/chunked', Body: body, ...ssec(KEY) }));
    const chunked = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/chunked', Range: 'bytes=99999-', ...ssec(KEY) }));
    expect((await bytesOf(chunked.Body)).equals(body.subarray(99_999))).toBe(true);
  });

  it('refuses SSE-C reads without the key (400 InvalidRequest), with a wrong key (403 AccessDenied), and keys on plain objects (400)', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'enc/b', Body: 'secret', ...ssec(KEY) }));
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/b' })))).toBe('InvalidRequest');
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/b', ...ssec(OTHER) })))).toBe('AccessDenied');
    // HEAD has no body, so the SDK only sees the status.
    const headErr = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'enc/b', ...ssec(OTHER) })).catch((e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode);
    expect(headErr).toBe(403);
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'plain/b', Body: 'open' }));
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'plain/b', ...ssec(KEY) })))).toBe('InvalidRequest');
    // Raw requests: wrong MD5, short key, wrong algorithm.
    const hdr = (key: Buffer, md5: string, alg = 'AES256') => ({
      'x-amz-server-side-encryption-customer-algorithm': alg,
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': md5,
    });
    const md5b64 = (k: Buffer) => Buffer.from(md5hex(k), 'hex').toString('base64');
    const put = (headers: Record<string, string>) => signedFetch(h.r2.endpoint, { method: 'PUT', path: '/test/enc/raw', headers, body: 'x' }).then(errorOf);
    expect(await put(hdr(KEY, md5b64(OTHER)))).toMatchObject({ status: 400, code: 'InvalidArgument', message: 'The calculated MD5 hash of the key did not match the hash that was provided.' });
    expect(await put(hdr(random(16), md5b64(KEY)))).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(await put(hdr(KEY, md5b64(KEY), 'AES128'))).toMatchObject({ status: 400, code: 'InvalidEncryptionAlgorithmError' });
    // Nothing stored by the refused writes; the encrypted object is unharmed.
    expect(await codeOf(h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'enc/raw' })))).toBe('NotFound');
    const ok = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/b', ...ssec(KEY) }));
    expect((await bytesOf(ok.Body)).toString()).toBe('secret');
  });

  it('SSE-C multipart: parts need the upload key; partNumber and ranges across parts decrypt', async () => {
    const parts = [random(5 * MiB), random(4321)];
    const { UploadId, SSECustomerAlgorithm } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'enc/mp', ...ssec(KEY) }));
    expect(SSECustomerAlgorithm).toBe('AES256');
    expect(await codeOf(h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'enc/mp', UploadId, PartNumber: 1, Body: parts[0] as Buffer })))).toBe('InvalidRequest');
    expect(await codeOf(h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'enc/mp', UploadId, PartNumber: 1, Body: parts[0] as Buffer, ...ssec(OTHER) })))).toBe('InvalidRequest');
    const etags = [];
    for (const [i, p] of parts.entries())
      etags.push((await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'enc/mp', UploadId, PartNumber: i + 1, Body: p, ...ssec(KEY) }))).ETag);
    await h.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'test', Key: 'enc/mp', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const whole = Buffer.concat(parts);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/mp', ...ssec(KEY) }));
    expect((await bytesOf(got.Body)).equals(whole)).toBe(true);
    const p2 = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/mp', PartNumber: 2, ...ssec(KEY) }));
    expect(p2.PartsCount).toBe(2);
    expect((await bytesOf(p2.Body)).equals(parts[1] as Buffer)).toBe(true);
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'enc/mp', PartNumber: 1, ...ssec(KEY) }));
    expect(head.PartsCount).toBe(2);
    expect(head.ContentLength).toBe(5 * MiB);
    const r = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/mp', Range: `bytes=${5 * MiB - 7}-${5 * MiB + 8}`, ...ssec(KEY) }));
    expect((await bytesOf(r.Body)).equals(whole.subarray(5 * MiB - 7, 5 * MiB + 9))).toBe(true);
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'enc/mp', PartNumber: 1 })))).toBe('InvalidRequest');
  });

  it('CopyObject with SSE-C re-encrypts: plain→encrypted, encrypted→other key, encrypted→plain; wrong source key refused', async () => {
    const body = random(70_000);
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'copy/plain', Body: body }));
    await h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/enc1', CopySource: 'test/copy/plain', ...ssec(KEY) }));
    await h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/enc2', CopySource: 'test/copy/enc1', ...copySsec(KEY), ...ssec(OTHER) }));
    await h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/plain2', CopySource: 'test/copy/enc2', ...copySsec(OTHER) }));
    expect(await codeOf(h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/x', CopySource: 'test/copy/enc2', ...copySsec(KEY) })))).toBe('AccessDenied');
    expect(await codeOf(h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/x', CopySource: 'test/copy/enc2' })))).toBe('InvalidRequest');
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'copy/enc2', ...ssec(KEY) })))).toBe('AccessDenied');
    const e2 = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'copy/enc2', Range: 'bytes=33-40032', ...ssec(OTHER) }));
    expect((await bytesOf(e2.Body)).equals(body.subarray(33, 40033))).toBe(true);
    const p2 = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'copy/plain2' }));
    expect((await bytesOf(p2.Body)).equals(body)).toBe(true);
    // Re-keying an object in place is a legal self-copy.
    await h.s3.send(new CopyObjectCommand({ Bucket: 'test', Key: 'copy/enc2', CopySource: 'test/copy/enc2', ...copySsec(OTHER), ...ssec(KEY) }));
    const again = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'copy/enc2', ...ssec(KEY) }));
    expect((await bytesOf(again.Body)).equals(body)).toBe(true);
  });

  it('UploadPartCopy with SSE-C on source and destination and x-amz-copy-source-range', async () => {
    const body = random(6 * MiB);
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'upc/src', Body: body, ...ssec(OTHER) }));
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'upc/dst', ...ssec(KEY) }));
    const base = { Bucket: 'test', Key: 'upc/dst', UploadId, CopySource: 'test/upc/src' };
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 1, CopySourceRange: `bytes=0-${5 * MiB - 1}`, ...ssec(KEY) })))).toBe('InvalidRequest');
    const p1 = await h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 1, CopySourceRange: `bytes=0-${5 * MiB - 1}`, ...copySsec(OTHER), ...ssec(KEY) }));
    const p2 = await h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 2, CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`, ...copySsec(OTHER), ...ssec(KEY) }));
    expect(p1.CopyPartResult?.ETag).toBe(`"${md5hex(body.subarray(0, 5 * MiB))}"`);
    await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'upc/dst',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult?.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }] },
      }),
    );
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'upc/dst', ...ssec(KEY) }));
    expect((await bytesOf(got.Body)).equals(body)).toBe(true);
  });
});
