import { randomBytes } from 'node:crypto';
import { type ChecksumAlgorithm, defaultType, headerName, parseAlgorithm } from '../checksums.js';
import { S3Error } from '../errors.js';
import { checkWrite, writeConditions } from '../http/conditions.js';
import { type Ctx, etagQuote, h, q, send, sendXml } from '../http/context.js';
import { requestMetadata } from '../http/metadata.js';
import { abortFor, bucketRules } from '../lifecycle.js';
import { keyForPart, parseSseC, SSE_C_VERIFIER, sseHeaders, verifierFor } from '../sse-c.js';
import type { PartRow, UploadRow } from '../store/db.js';
import { httpDate, isoDate, toXml } from '../xml.js';
import { requireBucket, OWNER } from './buckets.js';
import { ingest } from './objects.js';
import { uploadPartCopy } from './part-copy.js';

export const MIN_PART = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;
/** Conditional headers of CreateMultipartUpload, kept with the upload for Complete. */
export const COND = 'x-local-r2-conditions';

export function getUpload(ctx: Ctx): UploadRow {
  requireBucket(ctx);
  const id = q(ctx, 'uploadId') ?? '';
  const u = ctx.app.db.getUpload(id);
  if (!u || u.bucket !== ctx.bucket || u.key !== ctx.key) throw new S3Error('NoSuchUpload');
  return u;
}

export function createMultipartUpload(ctx: Ctx) {
  const bucket = requireBucket(ctx);
  const key = ctx.key as string;
  const { headers, meta } = requestMetadata(ctx);
  const sse = parseSseC(ctx);
  if (sse) headers[SSE_C_VERIFIER] = verifierFor(sse);
  const alg = parseAlgorithm(h(ctx, 'x-amz-checksum-algorithm'));
  const typeRaw = h(ctx, 'x-amz-checksum-type');
  if (typeRaw !== undefined && typeRaw !== 'FULL_OBJECT' && typeRaw !== 'COMPOSITE')
    throw new S3Error('InvalidRequest', `Checksum type '${typeRaw}' is not FULL_OBJECT or COMPOSITE.`);
  if (typeRaw && !alg) throw new S3Error('InvalidRequest', 'x-amz-checksum-type requires x-amz-checksum-algorithm.');
  if (alg && typeRaw && typeRaw !== defaultType(alg))
    throw new S3Error('InvalidRequest', `R2 supports ${alg} only as a ${defaultType(alg)} checksum.`);
  const conditions = writeConditions(ctx);
  checkWrite(conditions, ctx.app.db.getObject(bucket.name, key));
  if (Object.keys(conditions).length) headers[COND] = JSON.stringify(conditions);
  const initiated = ctx.app.now();
  const id = initiated.toString(16).padStart(12, '0') + randomBytes(20).toString('base64url');
  ctx.app.db.createUpload({
    id,
    bucket: bucket.name,
    key,
    initiated,
    headers,
    meta,
    checksumAlg: alg ?? null,
    checksumType: alg ? defaultType(alg) : null,
  });
  const out: Record<string, string> = sseHeaders(sse);
  const abort = abortFor(bucketRules(bucket.lifecycle), key, initiated);
  if (abort) {
    out['x-amz-abort-date'] = httpDate(abort.date);
    out['x-amz-abort-rule-id'] = encodeURIComponent(abort.ruleId);
  }
  if (alg) {
    out['x-amz-checksum-algorithm'] = alg;
    out['x-amz-checksum-type'] = defaultType(alg);
  }
  sendXml(ctx, toXml('InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: id }), out);
}

export function partNumberOf(v: string | undefined): number {
  if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > MAX_PARTS)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
  return Number(v);
}

export async function uploadPart(ctx: Ctx) {
  const partNumber = partNumberOf(q(ctx, 'partNumber'));
  const upload = getUpload(ctx);
  const sse = keyForPart(upload.headers[SSE_C_VERIFIER], parseSseC(ctx));
  if (h(ctx, 'x-amz-copy-source') !== undefined) return uploadPartCopy(ctx, upload, partNumber, sse);
  const uploadAlg = upload.checksumAlg as ChecksumAlgorithm | null;
  const body = await ingest(ctx, uploadAlg ? [uploadAlg] : [], sse);
  const sentAlg = body.wanted.alg;
  // FULL_OBJECT parts may carry any checksum (it is verified, then the upload's own CRC is kept);
  // a COMPOSITE upload needs every part digest in its own algorithm.
  if (uploadAlg && sentAlg && sentAlg !== uploadAlg && upload.checksumType === 'COMPOSITE') {
    await ctx.app.blobs.remove([body.id]);
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${uploadAlg.toLowerCase()}, actual checksum Type: ${sentAlg.toLowerCase()}`);
  }
  const alg = uploadAlg ?? sentAlg ?? null;
  const part: PartRow = {
    uploadId: upload.id,
    partNumber,
    size: body.size,
    etag: (body.digests.get('MD5') as Buffer).toString('hex'),
    checksumAlg: alg,
    checksum: alg ? (body.digests.get(alg) as Buffer).toString('base64') : null,
    file: body.id,
    modified: ctx.app.now(),
  };
  await commitPart(ctx, part);
  const out: Record<string, string> = { etag: etagQuote(part.etag), ...sseHeaders(sse) };
  if (sentAlg) out[headerName(sentAlg)] = (body.digests.get(sentAlg) as Buffer).toString('base64');
  send(ctx, 200, out);
}

/** Stores a part (replacing an earlier one with its number) unless the upload ended meanwhile. */
export async function commitPart(ctx: Ctx, part: PartRow) {
  let old: PartRow | undefined;
  try {
    await ctx.app.db.commit(() => {
      if (!ctx.app.db.getUpload(part.uploadId)) throw new S3Error('NoSuchUpload');
      old = ctx.app.db.getPart(part.uploadId, part.partNumber);
      ctx.app.db.putPart(part);
    });
  } catch (err) {
    await ctx.app.blobs.remove([part.file]);
    throw err;
  }
  if (old) await ctx.app.blobs.remove([old.file]);
}

export const partChecksumField = (alg: string) => `Checksum${alg}`;

export function listParts(ctx: Ctx) {
  const upload = getUpload(ctx);
  const markerRaw = q(ctx, 'part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(markerRaw)) throw new S3Error('InvalidArgument', 'part-number-marker must be an integer.');
  const maxRaw = q(ctx, 'max-parts') ?? '1000';
  if (!/^\d+$/.test(maxRaw)) throw new S3Error('InvalidArgument', 'max-parts must be a non-negative integer.');
  const max = Math.min(Number(maxRaw), 1000);
  const rows = ctx.app.db.listParts(upload.id, Number(markerRaw), max + 1);
  const truncated = rows.length > max;
  const parts = rows.slice(0, max);
  const abort = abortFor(bucketRules(requireBucket(ctx).lifecycle), upload.key, upload.initiated);
  const headers: Record<string, string> = abort
    ? { 'x-amz-abort-date': httpDate(abort.date), 'x-amz-abort-rule-id': encodeURIComponent(abort.ruleId) }
    : {};
  sendXml(
    ctx,
    toXml('ListPartsResult', {
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: upload.id,
      PartNumberMarker: Number(markerRaw),
      ...(parts.length ? { NextPartNumberMarker: (parts[parts.length - 1] as PartRow).partNumber } : {}),
      MaxParts: max,
      IsTruncated: truncated,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: upload.headers['x-amz-storage-class'] ?? 'STANDARD',
      ...(upload.checksumAlg ? { ChecksumAlgorithm: upload.checksumAlg, ChecksumType: upload.checksumType } : {}),
      Part: parts.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: isoDate(p.modified),
        ETag: etagQuote(p.etag),
        Size: p.size,
        ...(p.checksumAlg && p.checksum ? { [partChecksumField(p.checksumAlg)]: p.checksum } : {}),
      })),
    }),
    headers,
  );
}

/** Deletes an upload and its part files; unknown ids succeed too (R2 makes abort idempotent). */
export async function abortMultipartUpload(ctx: Ctx) {
  requireBucket(ctx);
  const id = q(ctx, 'uploadId') ?? '';
  const files = ctx.app.db.tx(() => {
    const u = ctx.app.db.getUpload(id);
    if (!u || u.bucket !== ctx.bucket || u.key !== ctx.key) return [];
    const f = ctx.app.db.allParts(id).map((p) => p.file);
    ctx.app.db.deleteUpload(id);
    return f;
  });
  await ctx.app.blobs.remove(files);
  send(ctx, 204, {});
}
