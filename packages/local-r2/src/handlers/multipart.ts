import { createHash, randomBytes } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  combineCrc64Nvme,
  createHasher,
  defaultType,
  headerName,
  parseAlgorithm,
} from '../checksums.js';
import { S3Error } from '../errors.js';
import { checkWrite, type WriteConditions, writeConditions } from '../http/conditions.js';
import { type Ctx, etagQuote, h, q, send, sendXml } from '../http/context.js';
import { readSmallBody } from '../http/body.js';
import { requestMetadata } from '../http/metadata.js';
import { abortFor, bucketRules } from '../lifecycle.js';
import type { ObjectRow, PartRow, UploadRow } from '../store/db.js';
import { asArray, httpDate, isoDate, onlyKeys, parseXml, text, toXml } from '../xml.js';
import { requireBucket, OWNER } from './buckets.js';
import { ingest } from './objects.js';

const MIN_PART = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const COND = 'x-local-r2-conditions';

function getUpload(ctx: Ctx): UploadRow {
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
  const out: Record<string, string> = {};
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

function partNumberOf(v: string | undefined): number {
  if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > MAX_PARTS)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
  return Number(v);
}

export async function uploadPart(ctx: Ctx) {
  const partNumber = partNumberOf(q(ctx, 'partNumber'));
  const upload = getUpload(ctx);
  if (h(ctx, 'x-amz-copy-source') !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not implemented by local-r2.');
  const uploadAlg = upload.checksumAlg as ChecksumAlgorithm | null;
  const body = await ingest(ctx, uploadAlg ? [uploadAlg] : []);
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
  let old: PartRow | undefined;
  try {
    await ctx.app.db.commit(() => {
      if (!ctx.app.db.getUpload(upload.id)) throw new S3Error('NoSuchUpload');
      old = ctx.app.db.getPart(upload.id, partNumber);
      ctx.app.db.putPart(part);
    });
  } catch (err) {
    await ctx.app.blobs.remove([body.id]);
    throw err;
  }
  if (old) await ctx.app.blobs.remove([old.file]);
  const out: Record<string, string> = { etag: etagQuote(part.etag) };
  if (sentAlg) out[headerName(sentAlg)] = (body.digests.get(sentAlg) as Buffer).toString('base64');
  send(ctx, 200, out);
}

const partChecksumField = (alg: string) => `Checksum${alg}`;

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

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Map<string, string>;
}

function parseComplete(xml: string): RequestedPart[] {
  const root = parseXml(xml, 'CompleteMultipartUpload');
  onlyKeys(root, ['Part']);
  const parts = asArray(root.Part as Record<string, unknown>[] | undefined);
  if (parts.length === 0) throw new S3Error('MalformedXML', 'CompleteMultipartUpload needs at least one Part.');
  if (parts.length > MAX_PARTS) throw new S3Error('InvalidArgument', `An upload has at most ${MAX_PARTS} parts.`);
  return parts.map((p) => {
    if (typeof p !== 'object' || p === null) throw new S3Error('MalformedXML');
    onlyKeys(p, ['PartNumber', 'ETag', 'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256', 'ChecksumCRC64NVME']);
    const etag = text(p.ETag);
    if (etag === undefined) throw new S3Error('MalformedXML', 'Each Part needs an ETag.');
    const checksums = new Map<string, string>();
    for (const [k, v] of Object.entries(p)) if (k.startsWith('Checksum')) checksums.set(k.slice('Checksum'.length), text(v) ?? '');
    return { partNumber: partNumberOf(text(p.PartNumber)), etag: etag.replace(/^"|"$/g, ''), checksums };
  });
}

export async function completeMultipartUpload(ctx: Ctx) {
  const upload = getUpload(ctx);
  const requested = parseComplete((await readSmallBody(ctx, 4 * 1024 * 1024, false)).toString('utf8'));
  requested.sort((a, b) => a.partNumber - b.partNumber); // R2 sorts instead of InvalidPartOrder
  const alg = upload.checksumAlg as ChecksumAlgorithm | null;
  const type = h(ctx, 'x-amz-checksum-type');
  if (type !== undefined && type !== (upload.checksumType ?? undefined))
    throw new S3Error('InvalidRequest', `The upload was created using the ${upload.checksumType ?? 'no'} checksum mode. The complete request must use the same checksum mode.`);
  const composite = alg && upload.checksumType === 'COMPOSITE' ? await createHasher(alg) : undefined;
  const storedConds = upload.headers[COND] ? (JSON.parse(upload.headers[COND]) as WriteConditions) : {};
  const completeConds = writeConditions(ctx);
  let unused: string[] = [];
  let replaced: string[] = [];
  let failedFiles: string[] = [];
  const row = await ctx.app.db.commit((): ObjectRow | undefined => {
      if (!ctx.app.db.getUpload(upload.id)) throw new S3Error('NoSuchUpload');
      const stored = new Map(ctx.app.db.allParts(upload.id).map((p) => [p.partNumber, p]));
      const chosen: PartRow[] = [];
      let prev = 0;
      for (const r of requested) {
        const p = stored.get(r.partNumber);
        if (r.partNumber === prev || !p || p.etag !== r.etag)
          throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.');
        for (const [a, v] of r.checksums)
          if (a !== p.checksumAlg || v !== p.checksum) throw new S3Error('InvalidPart', `The ${a} checksum of part ${r.partNumber} does not match the uploaded part.`);
        prev = r.partNumber;
        chosen.push(p);
      }
      const sizes = chosen.map((p) => p.size);
      const first = sizes[0] as number;
      if (chosen.length > 1 && first < MIN_PART)
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      for (let i = 1; i < sizes.length; i++) {
        const s = sizes[i] as number;
        if ((i < sizes.length - 1 && s !== first) || s > first)
          throw new S3Error('InvalidPart', 'All non-trailing parts must have the same length.');
      }
      let checksum: string | null = null;
      if (alg === 'CRC64NVME')
        checksum = combineCrc64Nvme(chosen.map((p) => ({ digest: Buffer.from(p.checksum ?? '', 'base64'), size: p.size }))).toString('base64');
      else if (alg && composite) {
        for (const p of chosen) composite.update(Buffer.from(p.checksum ?? '', 'base64'));
        checksum = `${composite.digest().toString('base64')}-${chosen.length}`;
      }
      if (alg) {
        const sent = h(ctx, headerName(alg));
        if (sent !== undefined && sent !== checksum && `${sent}-${chosen.length}` !== checksum)
          throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
      }
      for (const other of ['crc32', 'crc32c', 'sha1', 'sha256', 'crc64nvme'])
        if (other !== alg?.toLowerCase() && h(ctx, `x-amz-checksum-${other}`) !== undefined)
          throw new S3Error('InvalidRequest', `The upload was created with ${alg ?? 'no'} checksum; x-amz-checksum-${other} cannot be used at completion.`);
      const cur = ctx.app.db.getObject(upload.bucket, upload.key);
      try {
        checkWrite(storedConds, cur);
        checkWrite(completeConds, cur);
      } catch {
        // R2: a failed condition at completion ends the upload (treated as aborted).
        failedFiles = [...stored.values()].map((p) => p.file);
        ctx.app.db.deleteUpload(upload.id);
        return undefined;
      }
      const md5s = createHash('md5');
      for (const p of chosen) md5s.update(Buffer.from(p.etag, 'hex'));
      const headers = { ...upload.headers };
      delete headers[COND];
      const obj: ObjectRow = {
        bucket: upload.bucket,
        key: upload.key,
        size: sizes.reduce((a, b) => a + b, 0),
        etag: `${md5s.digest('hex')}-${chosen.length}`,
        modified: ctx.app.now(),
        segments: chosen.map((p) => [p.file, p.size]),
        headers,
        meta: upload.meta,
        checksumAlg: alg,
        checksumType: alg ? upload.checksumType : null,
        checksum,
        parts: sizes,
      };
      const keep = new Set(chosen.map((p) => p.file));
      unused = [...stored.values()].map((p) => p.file).filter((f) => !keep.has(f));
      replaced = cur ? cur.segments.map(([f]) => f) : [];
      ctx.app.db.deleteUpload(upload.id);
      ctx.app.db.putObject(obj);
      return obj;
    });
  if (!row) {
    await ctx.app.blobs.remove(failedFiles);
    throw new S3Error('PreconditionFailed');
  }
  await ctx.app.blobs.remove([...unused, ...replaced]);
  const obj = row;
  const out: Record<string, string> = {};
  if (obj.checksumAlg && obj.checksum) out['x-amz-checksum-type'] = obj.checksumType ?? '';
  sendXml(
    ctx,
    toXml('CompleteMultipartUploadResult', {
      Location: `/${obj.bucket}/${obj.key}`,
      Bucket: obj.bucket,
      Key: obj.key,
      ETag: etagQuote(obj.etag),
      ...(obj.checksumAlg && obj.checksum ? { [partChecksumField(obj.checksumAlg)]: obj.checksum, ChecksumType: obj.checksumType } : {}),
    }),
    out,
  );
}
