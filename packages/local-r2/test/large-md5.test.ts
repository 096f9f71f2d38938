// Bodies of 8 MiB and more hash their MD5 on a worker thread (md5-thread.ts): the ETag, the
// Content-MD5 check and many uploads at once must be exactly as for small bodies.
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { b64, bytesOf, codeOf, type Harness, harness, MiB, md5hex, random } from './helpers.js';
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

const blobFiles = async (dir: string) => (await Promise.all((await readdir(join(dir, 'blobs'))).map((s) => readdir(join(dir, 'blobs', s))))).flat().length;

it('a 40 MiB PUT (many write batches, early fdatasyncs, MD5 backpressure) stores its bytes and ETag; one cut off half-way stores nothing', async () => {
  const body = random(40 * MiB + 7);
  const put = await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'big/forty', Body: body }));
  expect(put.ETag).toBe(`"${md5hex(body)}"`);
  const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'big/forty' }));
  expect((await bytesOf(got.Body)).equals(body)).toBe(true);
  const files = await blobFiles(h.dir);

  // The same key again, but the connection drops after 20 MiB of the declared 40.
  const url = new URL(await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'big/forty' })));
  await new Promise<void>((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, () => {
      sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${body.length}\r\n\r\n`);
      sock.write(body.subarray(0, 20 * MiB), () => setTimeout(() => sock.destroy(), 200));
    });
    sock.on('error', reject);
    sock.on('close', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 300));
  const again = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'big/forty' }));
  expect(again.ETag).toBe(`"${md5hex(body)}"`);
  expect((await bytesOf(again.Body)).equals(body)).toBe(true);
  expect(await blobFiles(h.dir)).toBe(files);
});
