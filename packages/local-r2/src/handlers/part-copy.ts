import { Readable } from 'node:stream';
import { type ChecksumAlgorithm, createHasher } from '../checksums.js';
import { S3Error } from '../errors.js';
import { type Ctx, etagQuote, h, sendXml } from '../http/context.js';
import { keyForRead, parseSseC, SSE_C_VERIFIER, type SseKey, sseHeaders } from '../sse-c.js';
import type { PartRow, UploadRow } from '../store/db.js';
import { isoDate, toXml } from '../xml.js';
import { checkSourceConditions, sourceObject } from './copy.js';
import { commitPart, partChecksumField } from './multipart.js';
import { MAX_PUT_BYTES } from './objects.js';

/** [start, end] of x-amz-copy-source-range (the whole source when absent). */
function copyRange(ctx: Ctx, size: number): [number, number] {
  const range = h(ctx, 'x-amz-copy-source-range');
  if (range === undefined) return [0, size - 1];
  const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
  if (!m)
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy.',
    );
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size) throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`);
  return [start, end];
}

/**
 * UploadPartCopy: a part made of (a range of) an existing object. The bytes are streamed into a
 * new part file (decrypted with the source's SSE-C key, encrypted with the upload's), hashed as
 * an uploaded part would be.
 */
export async function uploadPartCopy(ctx: Ctx, upload: UploadRow, partNumber: number, sse: SseKey | undefined) {
  const src = sourceObject(ctx);
  checkSourceConditions(ctx, src);
  const srcSse = keyForRead(src.headers[SSE_C_VERIFIER], parseSseC(ctx, true));
  const [start, end] = copyRange(ctx, src.size);
  const size = end - start + 1;
  if (size > MAX_PUT_BYTES) throw new S3Error('EntityTooLarge');
  const alg = upload.checksumAlg as ChecksumAlgorithm | null;
  const md5 = await createHasher('MD5');
  const sum = alg ? await createHasher(alg) : undefined;
  const id = size > 0 ? ctx.app.blobs.newId() : '';
  const unpin = ctx.app.blobs.pin(src.segments);
  try {
    if (id !== '') {
      const bytes = Readable.from(ctx.app.blobs.read(src.segments, start, end, srcSse?.key));
      const onChunk = (c: Buffer) => {
        md5.update(c);
        sum?.update(c);
      };
      await ctx.app.blobs.write(id, bytes, onChunk, sse?.key);
    }
  } finally {
    unpin();
  }
  const part: PartRow = {
    uploadId: upload.id,
    partNumber,
    size,
    etag: md5.digest().toString('hex'),
    checksumAlg: alg,
    checksum: sum ? sum.digest().toString('base64') : null,
    file: id,
    modified: ctx.app.now(),
  };
  await commitPart(ctx, part);
  sendXml(
    ctx,
    toXml('CopyPartResult', {
      ETag: etagQuote(part.etag),
      LastModified: isoDate(part.modified),
      ...(alg && part.checksum ? { [partChecksumField(alg)]: part.checksum } : {}),
    }),
    sseHeaders(sse),
  );
}
