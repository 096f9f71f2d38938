import { createHash } from 'node:crypto';
import { type ChecksumAlgorithm, combineCrc64Nvme, createHasher, headerName } from '../checksums.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../http/body.js';
import { checkWrite, type WriteConditions, writeConditions } from '../http/conditions.js';
import { type Ctx, etagQuote, h, sendXml } from '../http/context.js';
import type { ObjectRow, PartRow } from '../store/db.js';
import { asArray, onlyKeys, parseXml, text, toXml } from '../xml.js';
import { COND, getUpload, MAX_PARTS, MIN_PART, partChecksumField, partNumberOf } from './multipart.js';

/** R2's largest object: 5 TiB minus 5 GiB. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4 - 5 * 1024 ** 3;

interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Map<string, string>;
}

function parseComplete(xml: string, ignoreChecksums: boolean): RequestedPart[] {
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
    if (!ignoreChecksums)
      for (const [k, v] of Object.entries(p)) if (k.startsWith('Checksum')) checksums.set(k.slice('Checksum'.length), text(v) ?? '');
    return { partNumber: partNumberOf(text(p.PartNumber)), etag: etag.replace(/^"|"$/g, ''), checksums };
  });
}

export async function completeMultipartUpload(ctx: Ctx) {
  const upload = getUpload(ctx);
  const requested = parseComplete((await readSmallBody(ctx, 4 * 1024 * 1024, false)).toString('utf8'), ctx.app.ignoreChecksums);
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
      if (sizes.reduce((a, b) => a + b, 0) > MAX_OBJECT_BYTES) throw new S3Error('EntityTooLarge');
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
