// Bodies of 8 MiB and more hash their MD5 on a worker thread (md5-thread.ts): the ETag, the
// Content-MD5 check and many uploads at once must be exactly as for small bodies.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { b64, codeOf, type Harness, harness, MiB, md5hex, random } from './helpers.js';
import { sdk } from './sdk.js';

const { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand } = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

it('a 9 MiB PUT: ETag is its MD5, a wrong Content-MD5 is BadDigest and stores nothing', async () => {
  const body = random(9 * MiB + 13);
  const put = await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'big/one', Body: body, ContentMD5: b64('md5', body) }));
  expect(put.ETag).toBe(`"${md5hex(body)}"`);
  expect(await codeOf(h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'big/two', Body: body, ContentMD5: b64('md5', random(10)) })))).toBe('BadDigest');
  expect(await codeOf(h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'big/two' })))).toMatch(/NotFound|NoSuchKey/);
});

it('six 9 MiB bodies at once (PUTs and parts) each get their own MD5', async () => {
  const bodies = Array.from({ length: 6 }, () => random(9 * MiB));
  const up = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'big/multi' }));
  const [puts, parts] = await Promise.all([
    Promise.all(bodies.slice(0, 3).map((b, i) => h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: `big/p${i}`, Body: b })))),
    Promise.all(bodies.slice(3).map((b, i) => h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'big/multi', UploadId: up.UploadId as string, PartNumber: i + 1, Body: b, ContentMD5: b64('md5', b) })))),
  ]);
  expect(puts.map((p) => p.ETag)).toEqual(bodies.slice(0, 3).map((b) => `"${md5hex(b)}"`));
  expect(parts.map((p) => p.ETag)).toEqual(bodies.slice(3).map((b) => `"${md5hex(b)}"`));
  await h.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'test',
      Key: 'big/multi',
      UploadId: up.UploadId as string,
      MultipartUpload: { Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.ETag as string })) },
    }),
  );
  const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'big/multi' }));
  expect(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(Buffer.concat(bodies.slice(3)))).toBe(true);
});
