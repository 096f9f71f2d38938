// Single-PUT integrity: Content-MD5, the x-amz-checksum-* headers, and aws-chunked uploads.
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type Algorithm,
  bytes,
  checksum,
  checksumHeadersOf,
  FIELD,
  md5,
  probe,
  recordHeaders,
  refusal,
  setSection,
  wrongChecksum,
} from './probe-lib.js';

export async function probeChecksums(s3: S3Client, Bucket: string): Promise<void> {
  const lastHeaders = recordHeaders(s3);
  const body = bytes(1000);

  setSection('PutObject integrity');
  await probe('Content-MD5 correct', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'md5-ok', Body: body, ContentMD5: md5(body) }));
    return 'accepted (200)';
  });
  await probe('Content-MD5 mismatch', () =>
    refusal(() => s3.send(new PutObjectCommand({ Bucket, Key: 'md5-bad', Body: body, ContentMD5: md5(bytes(1000, 2)) }))),
  );
  await probe('Content-MD5 not base64 of 16 bytes', () =>
    refusal(() => s3.send(new PutObjectCommand({ Bucket, Key: 'md5-bad', Body: body, ContentMD5: 'nonsense' }))),
  );

  for (const alg of ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA256'] as Algorithm[]) {
    const Key = `sum-${alg}`;
    const good = await checksum(alg, body);
    await probe(`PutObject \`x-amz-checksum-${alg.toLowerCase()}\` correct`, async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: body, [FIELD[alg]]: good }));
      const echoed = checksumHeadersOf(lastHeaders());
      return `accepted (200); PUT response checksum headers: ${echoed}${put.ChecksumType ? `, type ${put.ChecksumType}` : ''}`;
    });
    await probe(`PutObject \`x-amz-checksum-${alg.toLowerCase()}\` wrong value`, async () => {
      const wrong = await wrongChecksum(alg);
      return refusal(() => s3.send(new PutObjectCommand({ Bucket, Key: `${Key}-bad`, Body: body, [FIELD[alg]]: wrong })));
    });
    await probe(`HeadObject / GetObject with \`x-amz-checksum-mode: ENABLED\` after a ${alg} PUT`, async () => {
      await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      const head = checksumHeadersOf(lastHeaders());
      const get = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      await get.Body?.transformToByteArray();
      const matches = head.includes(good) ? ' (the value sent)' : '';
      return `HEAD: ${head}${matches}; GET: ${checksumHeadersOf(lastHeaders())}`;
    });
  }

  setSection('Chunked uploads (aws-chunked)');
  // The SDK sends a stream with a requested checksum as aws-chunked with a trailing checksum.
  await probe('PutObject stream + ChecksumAlgorithm CRC32 (STREAMING-UNSIGNED-PAYLOAD-TRAILER, trailer x-amz-checksum-crc32)', async () => {
    const r = await refusal(() =>
      s3.send(
        new PutObjectCommand({
          Bucket,
          Key: 'chunked-trailer',
          Body: Readable.from([Buffer.from(body)]),
          ContentLength: body.length,
          ChecksumAlgorithm: 'CRC32',
        }),
      ),
    );
    if (!r.startsWith('accepted')) return r;
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'chunked-trailer', ChecksumMode: 'ENABLED' }));
    return `accepted (200); stored ContentLength ${head.ContentLength}; HEAD checksum headers: ${checksumHeadersOf(lastHeaders())}`;
  });
  await probe('PutObject stream without checksum (plain signed payload)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'stream', Body: Readable.from([Buffer.from(body)]), ContentLength: body.length }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'stream' }));
    return `accepted (200); ContentLength ${head.ContentLength}`;
  });
}
