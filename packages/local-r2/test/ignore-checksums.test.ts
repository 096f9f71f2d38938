// `ignoreChecksums: true` makes local-r2 behave like Ceph radosgw 16.2 (measured): every
// x-amz-checksum-* is accepted, even a wrong one, and nothing is echoed on PUT, UploadPart,
// Complete, HEAD or ListParts; Content-MD5 is still enforced; ETags stay standard.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, codeOf, type Harness, harness, MiB, md5hex, random } from './helpers.js';
import { sdk } from './sdk.js';

const { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand } = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness({ ignoreChecksums: true });
});
afterAll(() => h.stop());

const WRONG_CRC64 = 'AAAAAAAAAAA=';
const checksumKeys = (o: object) => Object.keys(o).filter((k) => /^Checksum/.test(k) && (o as Record<string, unknown>)[k] !== undefined);

describe('ignoreChecksums (a store without additional checksums)', () => {
  it('single PUT: a wrong checksum is accepted and not echoed; Content-MD5 is enforced; the ETag is the MD5', async () => {
    const body = random(1000);
    const put = await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'ic/one', Body: body, ChecksumCRC64NVME: WRONG_CRC64 }));
    expect(put.ETag).toBe(`"${md5hex(body)}"`);
    expect(checksumKeys(put)).toEqual([]);
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'ic/one', ChecksumMode: 'ENABLED' }));
    expect(checksumKeys(head)).toEqual([]);
    expect(await codeOf(h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'ic/two', Body: body, ContentMD5: b64('md5', random(10)) })))).toBe('BadDigest');
  });

  it('multipart: checksums accepted and ignored everywhere, Content-MD5 enforced, ETag = MD5 of the part MD5s + -N', async () => {
    const parts = [random(5 * MiB), random(321)];
    const { UploadId, ChecksumAlgorithm } = await h.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'ic/mp', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }),
    );
    expect(ChecksumAlgorithm).toBeUndefined();
    expect(
      await codeOf(h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'ic/mp', UploadId, PartNumber: 1, Body: parts[0] as Buffer, ContentMD5: b64('md5', random(5)) }))),
    ).toBe('BadDigest');
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'ic/mp', UploadId, PartNumber: i + 1, Body: p, ChecksumCRC64NVME: WRONG_CRC64 }));
      expect(r.ETag).toBe(`"${md5hex(p)}"`);
      expect(checksumKeys(r)).toEqual([]);
      etags.push(r.ETag as string);
    }
    const listed = await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'ic/mp', UploadId }));
    expect((listed.Parts ?? []).flatMap(checksumKeys)).toEqual([]);
    const done = await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'ic/mp',
        UploadId,
        ChecksumCRC64NVME: WRONG_CRC64,
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag, ChecksumSHA256: b64('sha256', random(3)) })) },
      }),
    );
    const expected = createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex');
    expect(done.ETag).toBe(`"${expected}-2"`);
    expect(checksumKeys(done)).toEqual([]);
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: 'test', Key: 'ic/mp', ChecksumMode: 'ENABLED' }));
    expect([head.ContentLength, head.ETag, checksumKeys(head)]).toEqual([5 * MiB + 321, `"${expected}-2"`, []]);
  });
});
