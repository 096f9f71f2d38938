import { createHash } from 'node:crypto';
import { createCRC32, createCRC64 } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, codeOf, type Harness, harness, MiB, md5hex, random, bytesOf } from './helpers.js';
import { sdk } from './sdk.js';

const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

const multipartEtag = (parts: Buffer[]) =>
  `"${createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex')}-${parts.length}"`;

describe('multipart with the WHEN_REQUIRED client', () => {
  it('uploads parts with Content-MD5, completes, and reads back whole and per part', async () => {
    const parts = [random(5 * MiB), random(5 * MiB), random(1234)];
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/plain', ContentType: 'video/mp4', Metadata: { a: '1' } }));
    const etags = [];
    for (const [i, p] of parts.entries()) {
      const r = await h.s3.send(
        new UploadPartCommand({ Bucket: 'test', Key: 'mp/plain', UploadId, PartNumber: i + 1, Body: p, ContentMD5: b64('md5', p) }),
      );
      expect(r.ETag).toBe(`"${md5hex(p)}"`);
      etags.push(r.ETag);
    }
    const done = await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'mp/plain',
        UploadId,
        // Out of order and without quotes: R2 sorts parts and ignores quotes.
        MultipartUpload: { Parts: [{ PartNumber: 3, ETag: etags[2] }, { PartNumber: 1, ETag: etags[0]?.replace(/"/g, '') }, { PartNumber: 2, ETag: etags[1] }] },
      }),
    );
    expect(done.ETag).toBe(multipartEtag(parts));
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'mp/plain' }));
    expect((await bytesOf(got.Body)).equals(Buffer.concat(parts))).toBe(true);
    expect(got.ContentType).toBe('video/mp4');
    expect(got.Metadata).toEqual({ a: '1' });
    const p2 = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'mp/plain', PartNumber: 2 }));
    expect(p2.PartsCount).toBe(3);
    expect((await bytesOf(p2.Body)).equals(parts[1] as Buffer)).toBe(true);
    const range = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'mp/plain', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    expect((await bytesOf(range.Body)).equals(Buffer.concat(parts).subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    expect(await codeOf(h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/plain', UploadId })))).toBe('NoSuchUpload');
    // A copy keeps the multipart ETag and the part layout.
    const copy = await h.s3.send(new sdk.CopyObjectCommand({ Bucket: 'test', Key: 'mp/plain-copy', CopySource: 'test/mp/plain' }));
    expect(copy.CopyObjectResult?.ETag).toBe(multipartEtag(parts));
    const c3 = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'mp/plain-copy', PartNumber: 3 }));
    expect((await bytesOf(c3.Body)).equals(parts[2] as Buffer)).toBe(true);
  });

  it('computes a FULL_OBJECT CRC64NVME from the parts (CRC combine) that equals a single pass', async () => {
    const parts = [random(5 * MiB), random(5 * MiB), random(777)];
    const whole = await createCRC64('9a6c9329ac4bc9b5');
    whole.update(Buffer.concat(parts));
    const expected = Buffer.from(whole.digest('binary')).toString('base64');
    const c = await h.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/crc64', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }),
    );
    expect(c.ChecksumAlgorithm).toBe('CRC64NVME');
    const etags = await Promise.all(
      parts.map((p, i) => h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/crc64', UploadId: c.UploadId, PartNumber: i + 1, Body: p }))),
    );
    const done = await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'mp/crc64',
        UploadId: c.UploadId,
        ChecksumCRC64NVME: expected,
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: { Parts: etags.map((e, i) => ({ PartNumber: i + 1, ETag: e.ETag })) },
      }),
    );
    expect(done.ChecksumCRC64NVME).toBe(expected);
    expect(done.ChecksumType).toBe('FULL_OBJECT');
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'mp/crc64', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC64NVME).toBe(expected);
  });

  it('rejects a wrong full-object CRC64NVME at Complete with BadDigest and keeps the upload', async () => {
    const c = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/bad64', ChecksumAlgorithm: 'CRC64NVME' }));
    const p = await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/bad64', UploadId: c.UploadId, PartNumber: 1, Body: random(100) }));
    const complete = () =>
      h.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'test',
          Key: 'mp/bad64',
          UploadId: c.UploadId,
          ChecksumCRC64NVME: 'AAAAAAAAAAA=',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
        }),
      );
    expect(await codeOf(complete())).toBe('BadDigest');
    expect((await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/bad64', UploadId: c.UploadId }))).Parts).toHaveLength(1);
  });

  it.each([
    ['SHA256', 'sha256'],
    ['CRC32', 'crc32'],
  ] as const)('computes a COMPOSITE %s checksum from per-part checksums', async (alg, name) => {
    const parts = [random(5 * MiB), random(4321)];
    const digest = async (b: Buffer) =>
      name === 'sha256' ? createHash('sha256').update(b).digest() : Buffer.from((await createCRC32()).update(b).digest('binary'));
    const digests = await Promise.all(parts.map(digest));
    const composite = `${(await digest(Buffer.concat(digests))).toString('base64')}-2`;
    const key = `mp/composite-${name}`;
    const c = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: key, ChecksumAlgorithm: alg, ChecksumType: 'COMPOSITE' }));
    const field = `Checksum${alg}` as const;
    const uploaded = [];
    for (const [i, p] of parts.entries()) {
      const r = await h.s3.send(
        new UploadPartCommand({ Bucket: 'test', Key: key, UploadId: c.UploadId, PartNumber: i + 1, Body: p, [field]: digests[i]?.toString('base64') }),
      );
      expect(r[field]).toBe(digests[i]?.toString('base64'));
      uploaded.push({ PartNumber: i + 1, ETag: r.ETag, [field]: r[field] });
    }
    const listed = await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: key, UploadId: c.UploadId }));
    expect(listed.Parts?.map((p) => p[field])).toEqual(digests.map((d) => d.toString('base64')));
    const done = await h.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: 'test', Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: uploaded } }),
    );
    expect(done[field]).toBe(composite);
    expect(done.ChecksumType).toBe('COMPOSITE');
  });

  it('refuses checksum combinations R2 does not support', async () => {
    expect(
      await codeOf(h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'x', ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }))),
    ).toBe('InvalidRequest');
    expect(
      await codeOf(h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'x', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' }))),
    ).toBe('InvalidRequest');
  });

  it('lists parts with max-parts and part-number-marker', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/list' }));
    for (let n = 1; n <= 5; n++) await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/list', UploadId, PartNumber: n, Body: `p${n}` }));
    const first = await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/list', UploadId, MaxParts: 2 }));
    expect(first.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(first.IsTruncated).toBe(true);
    expect(first.NextPartNumberMarker).toBe('2');
    const rest = await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/list', UploadId, PartNumberMarker: '2' }));
    expect(rest.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([3, 4, 5].map((n) => [n, 2, `"${md5hex(Buffer.from(`p${n}`))}"`]));
    expect(rest.IsTruncated).toBe(false);
    await h.s3.send(new AbortMultipartUploadCommand({ Bucket: 'test', Key: 'mp/list', UploadId }));
    await h.s3.send(new AbortMultipartUploadCommand({ Bucket: 'test', Key: 'mp/list', UploadId }));
    expect(await codeOf(h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/list', UploadId })))).toBe('NoSuchUpload');
    expect(await codeOf(h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/list', UploadId, PartNumber: 1, Body: 'x' })))).toBe('NoSuchUpload');
  });

  it('lists multipart uploads with prefix, delimiter, markers and max-uploads', async () => {
    await h.s3.send(new sdk.CreateBucketCommand({ Bucket: 'uploads' }));
    const ids: Record<string, string> = {};
    for (const key of ['a/1', 'a/2', 'a/2', 'b/x/1', 'c']) {
      const r = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: key }));
      ids[`${key}#${Object.keys(ids).filter((k) => k.startsWith(`${key}#`)).length}`] = r.UploadId as string;
    }
    const all = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads' }));
    expect(all.Uploads?.map((u) => u.Key)).toEqual(['a/1', 'a/2', 'a/2', 'b/x/1', 'c']);
    expect(all.Uploads?.[1]?.UploadId).toBe(ids['a/2#0']);
    const rolled = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads', Delimiter: '/' }));
    expect(rolled.Uploads?.map((u) => u.Key)).toEqual(['c']);
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/']);
    const inA = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads', Prefix: 'a/' }));
    expect(inA.Uploads).toHaveLength(3);
    // Page through one upload at a time with key-marker + upload-id-marker.
    const seen: string[] = [];
    let km: string | undefined;
    let im: string | undefined;
    for (;;) {
      const page = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads', MaxUploads: 2, KeyMarker: km, UploadIdMarker: im }));
      seen.push(...(page.Uploads ?? []).map((u) => u.UploadId as string));
      if (!page.IsTruncated) break;
      km = page.NextKeyMarker;
      im = page.NextUploadIdMarker;
    }
    expect(seen).toEqual(all.Uploads?.map((u) => u.UploadId));
    const afterA2 = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads', KeyMarker: 'a/2' }));
    expect(afterA2.Uploads?.map((u) => u.Key)).toEqual(['b/x/1', 'c']);
  });

  it('accepts many parallel UploadParts to one upload, including re-uploads of the same part', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/parallel' }));
    const parts = Array.from({ length: 8 }, (_, i) => random(i === 7 ? 100_000 : 5 * MiB));
    const decoy = random(5 * MiB);
    const sends = parts.map((p, i) => h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/parallel', UploadId, PartNumber: i + 1, Body: p })));
    // A concurrent re-upload of part 3 with other bytes; the final re-upload below must win.
    sends.push(h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/parallel', UploadId, PartNumber: 3, Body: decoy })));
    await Promise.all(sends);
    const p3 = await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/parallel', UploadId, PartNumber: 3, Body: parts[2] as Buffer }));
    const listed = await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/parallel', UploadId }));
    expect(listed.Parts?.map((p) => p.ETag)).toEqual(parts.map((p) => `"${md5hex(p)}"`));
    expect(p3.ETag).toBe(`"${md5hex(parts[2] as Buffer)}"`);
    await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'mp/parallel',
        UploadId,
        MultipartUpload: { Parts: listed.Parts?.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
      }),
    );
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'mp/parallel' }));
    expect(md5hex(await bytesOf(got.Body))).toBe(md5hex(Buffer.concat(parts)));
  });

  it('fails a conditional Complete (If-None-Match: *) with 412 and ends the upload (R2)', async () => {
    const c = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/cond' }));
    const p = await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/cond', UploadId: c.UploadId, PartNumber: 1, Body: 'x' }));
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'mp/cond', Body: 'someone else' }));
    const complete = h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'mp/cond',
        UploadId: c.UploadId,
        IfNoneMatch: '*',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
      }),
    );
    expect(await codeOf(complete)).toBe('PreconditionFailed');
    expect(await codeOf(h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'mp/cond', UploadId: c.UploadId })))).toBe('NoSuchUpload');
  });
});

describe('multipart with the SDK-default client', () => {
  it('accepts CRC32 trailers on parts and completes', async () => {
    const parts = [random(5 * MiB), random(10)];
    const { UploadId } = await h.s3Default.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'mp/default' }));
    const r = [];
    for (const [i, p] of parts.entries())
      r.push(await h.s3Default.send(new UploadPartCommand({ Bucket: 'test', Key: 'mp/default', UploadId, PartNumber: i + 1, Body: p })));
    expect(r[0]?.ChecksumCRC32).toBe(Buffer.from((await createCRC32()).update(parts[0] as Buffer).digest('binary')).toString('base64'));
    const done = await h.s3Default.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'mp/default',
        UploadId,
        MultipartUpload: { Parts: r.map((x, i) => ({ PartNumber: i + 1, ETag: x.ETag, ChecksumCRC32: x.ChecksumCRC32 })) },
      }),
    );
    expect(done.ETag).toBe(multipartEtag(parts));
  });
});
