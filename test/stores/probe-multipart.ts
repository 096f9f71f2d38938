// Multipart: checksum types at create, per-part enforcement, ListParts, complete-time verification,
// the multipart ETag and the minimum part size.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { crc32 } from 'hash-wasm';
import {
  type Algorithm,
  bytes,
  checksum,
  checksumHeadersOf,
  FIELD,
  md5,
  md5hex,
  multipartEtag,
  probe,
  recordHeaders,
  refusal,
  setSection,
  wrongChecksum,
} from './probe-lib.js';

const MiB = 1024 * 1024;

/** base64(H(raw part checksums))-N, AWS's COMPOSITE checksum. */
async function composite(alg: Algorithm, sums: string[]): Promise<string> {
  const raw = Buffer.concat(sums.map((s) => Buffer.from(s, 'base64')));
  const digest =
    alg === 'SHA256'
      ? createHash('sha256').update(raw).digest('base64')
      : Buffer.from(alg === 'CRC32C' ? await crc32(raw, 0x82f63b78) : await crc32(raw), 'hex').toString('base64');
  return `${digest}-${sums.length}`;
}

export async function probeMultipart(s3: S3Client, Bucket: string): Promise<void> {
  const lastHeaders = recordHeaders(s3);
  const parts = [bytes(5 * MiB, 11), bytes(5 * MiB, 12), bytes(1000, 13)];
  const whole = Buffer.concat(parts);

  const upload = async (Key: string, alg: Algorithm | undefined, type?: 'FULL_OBJECT' | 'COMPOSITE') => {
    const out = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        ...(alg ? { ChecksumAlgorithm: alg } : {}),
        ...(type ? { ChecksumType: type } : {}),
      }),
    );
    const h = lastHeaders();
    const said = `x-amz-checksum-algorithm: ${h['x-amz-checksum-algorithm'] ?? 'absent'}, x-amz-checksum-type: ${h['x-amz-checksum-type'] ?? 'absent'}`;
    return { UploadId: out.UploadId as string, said };
  };
  const putPart = async (Key: string, UploadId: string, n: number, extra: Record<string, string> = {}) => {
    const Body = parts[n - 1] as Uint8Array;
    const out = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body, ContentMD5: md5(Body), ...extra }));
    return { out, headers: checksumHeadersOf(lastHeaders()) };
  };

  for (const [alg, type] of [
    ['CRC64NVME', 'FULL_OBJECT'],
    ['CRC32C', 'COMPOSITE'],
    ['SHA256', 'COMPOSITE'],
  ] as const) {
    setSection(`Multipart with ${alg} ${type}`);
    const Key = `mpu-${alg}`;
    let UploadId = '';
    await probe(`CreateMultipartUpload ChecksumAlgorithm ${alg} + ChecksumType ${type}`, async () => {
      const r = await upload(Key, alg, type);
      UploadId = r.UploadId;
      return `accepted (200); response ${r.said}`;
    });
    if (!UploadId) continue;
    const sums = await Promise.all(parts.map((p) => checksum(alg, p)));
    await probe(`UploadPart with correct \`x-amz-checksum-${alg.toLowerCase()}\``, async () => {
      const echoed: string[] = [];
      for (let n = 1; n <= parts.length; n++) {
        echoed.push((await putPart(Key, UploadId, n, { [FIELD[alg]]: sums[n - 1] as string })).headers);
      }
      return `accepted (200); part 1 response checksum headers: ${echoed[0]}`;
    });
    await probe(`UploadPart with wrong \`x-amz-checksum-${alg.toLowerCase()}\``, async () =>
      refusal(async () => putPart(Key, UploadId, 2, { [FIELD[alg]]: await wrongChecksum(alg) })),
    );
    await probe('ListParts part checksums', async () => {
      const list = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      const p1 = list.Parts?.[0] as Record<string, unknown> | undefined;
      const value = p1?.[FIELD[alg]];
      return `${list.Parts?.length} parts; part 1 ${FIELD[alg]}: ${value ?? 'absent'}${value === sums[0] ? ' (the value sent)' : ''}; list ChecksumAlgorithm ${list.ChecksumAlgorithm ?? 'absent'}, ChecksumType ${list.ChecksumType ?? 'absent'}`;
    });
    const Parts: CompletedPart[] = parts.map((p, i) => ({ PartNumber: i + 1, ETag: `"${md5hex(p)}"`, [FIELD[alg]]: sums[i] }));
    if (type === 'FULL_OBJECT') {
      await probe('CompleteMultipartUpload with a wrong full-object CRC64NVME', async () => {
        const bad = await wrongChecksum(alg);
        return refusal(() =>
          s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumCRC64NVME: bad, ChecksumType: 'FULL_OBJECT' })),
        );
      });
    }
    await probe('CompleteMultipartUpload with a wrong part checksum in the part list', () =>
      refusal(async () => {
        const bad = Parts.map((p, i) => (i === 0 ? { ...p, [FIELD[alg]]: sums[1] } : p));
        return s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: bad } }));
      }),
    );
    await probe(`CompleteMultipartUpload with correct ${type === 'FULL_OBJECT' ? 'full-object' : 'part'} checksums`, async () => {
      const full = type === 'FULL_OBJECT' ? { ChecksumCRC64NVME: await checksum(alg, whole), ChecksumType: type } : {};
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ...full }));
      const got = done[FIELD[alg]];
      const expected = type === 'FULL_OBJECT' ? await checksum(alg, whole) : await composite(alg, sums);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      return `accepted (200); response ${FIELD[alg]}: ${got ?? 'absent'} (${got === expected ? 'equals' : 'differs from'} the expected ${expected}), ChecksumType ${done.ChecksumType ?? 'absent'}; HEAD ${checksumHeadersOf(lastHeaders())}, size ${head.ContentLength} (expected ${whole.length})`;
    });
  }

  setSection('Multipart without checksums (Content-MD5 per part)');
  await probe('UploadPart with a wrong Content-MD5', async () => {
    const { UploadId } = await upload('mpu-md5', undefined);
    const r = await refusal(() =>
      s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-md5', UploadId, PartNumber: 1, Body: parts[2] as Uint8Array, ContentMD5: md5(parts[0] as Uint8Array) })),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mpu-md5', UploadId }));
    return r;
  });
  await probe('Multipart ETag = md5(concat of part md5 bytes)-N; part ETag = md5 hex', async () => {
    const { UploadId } = await upload('mpu-etag', undefined);
    const etags: string[] = [];
    for (let n = 1; n <= parts.length; n++) etags.push((await putPart('mpu-etag', UploadId, n)).out.ETag as string);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu-etag', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'mpu-etag' }));
    const expected = multipartEtag(parts);
    const partOk = etags.every((e, i) => e === `"${md5hex(parts[i] as Uint8Array)}"`);
    return `part ETags are md5 hex: ${partOk}; complete response ETag ${JSON.stringify(done.ETag)} ${done.ETag === `"${expected}"` ? '= expected' : `≠ expected "${expected}"`}; HEAD ETag ${head.ETag}, ContentLength ${head.ContentLength}`;
  });
  await probe('A 1 MiB non-last part, at complete', async () => {
    const small = [bytes(MiB, 21), bytes(1000, 22)];
    const { UploadId } = await upload('mpu-small', undefined);
    const etags: string[] = [];
    for (const [i, Body] of small.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-small', UploadId, PartNumber: i + 1, Body }))).ETag as string);
    }
    const r = await refusal(() =>
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu-small', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
      ),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mpu-small', UploadId })).catch(() => {});
    return `UploadPart accepted; complete ${r}`;
  });
  await probe('Unequal non-last parts (5 MiB, 6 MiB, 1000 B)', async () => {
    const odd = [bytes(5 * MiB, 31), bytes(6 * MiB, 32), bytes(1000, 33)];
    const { UploadId } = await upload('mpu-odd', undefined);
    const etags: string[] = [];
    for (const [i, Body] of odd.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu-odd', UploadId, PartNumber: i + 1, Body }))).ETag as string);
    }
    return refusal(() =>
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu-odd', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
      ),
    );
  });
}
