import { S3Error } from '../errors.js';
import { checkWrite, writeConditions } from '../http/conditions.js';
import { type Ctx, etagQuote, h, sendXml } from '../http/context.js';
import { requestMetadata } from '../http/metadata.js';
import { checkKey, validBucketName } from '../keys.js';
import { keyForRead, parseSseC, SSE_C_VERIFIER, sseHeaders, verifierFor } from '../sse-c.js';
import type { ObjectRow, Segment } from '../store/db.js';
import { isoDate, toXml } from '../xml.js';
import { requireBucket } from './buckets.js';
import { commitObject } from './objects.js';

function parseSource(raw: string): { bucket: string; key: string } {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidArgument', 'x-amz-copy-source is not valid percent-encoded UTF-8.');
  }
  if (s.startsWith('/')) s = s.slice(1);
  if (/\?versionId=/.test(s)) throw new S3Error('NotImplemented', 'R2 has no object versions.');
  const slash = s.indexOf('/');
  const bucket = slash === -1 ? s : s.slice(0, slash);
  const key = slash === -1 ? '' : s.slice(slash + 1);
  if (!validBucketName(bucket) || key === '') throw new S3Error('InvalidArgument', 'x-amz-copy-source must be <bucket>/<key>.');
  checkKey(key);
  return { bucket, key };
}

/** The object named by x-amz-copy-source (NoSuchBucket / NoSuchKey when it is missing). */
export function sourceObject(ctx: Ctx): ObjectRow {
  const { bucket, key } = parseSource(h(ctx, 'x-amz-copy-source') as string);
  if (!ctx.app.db.getBucket(bucket)) throw new S3Error('NoSuchBucket');
  const src = ctx.app.db.getObject(bucket, key);
  if (!src) throw new S3Error('NoSuchKey');
  return src;
}

/** x-amz-copy-source-if-* (412 PreconditionFailed when a condition fails). */
export function checkSourceConditions(ctx: Ctx, src: ObjectRow) {
  const list = (v: string) => v.split(',').map((x) => x.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
  const modified = Math.floor(src.modified / 1000) * 1000;
  const m = h(ctx, 'x-amz-copy-source-if-match');
  const n = h(ctx, 'x-amz-copy-source-if-none-match');
  const ms = Date.parse(h(ctx, 'x-amz-copy-source-if-modified-since') ?? '');
  const us = Date.parse(h(ctx, 'x-amz-copy-source-if-unmodified-since') ?? '');
  const fail = () => {
    throw new S3Error('PreconditionFailed');
  };
  if (m !== undefined && !list(m).some((e) => e === '*' || e === src.etag)) fail();
  if (n !== undefined && list(n).some((e) => e === '*' || e === src.etag)) fail();
  if (!Number.isNaN(ms) && modified <= ms) fail();
  if (!Number.isNaN(us) && modified > us) fail();
}

/**
 * CopyObject: metadata COPY or REPLACE. Unencrypted copies share the source's data files through
 * hard links; when either side uses SSE-C the bytes are streamed and re-encrypted per file.
 */
export async function copyObject(ctx: Ctx) {
  requireBucket(ctx);
  const src = sourceObject(ctx);
  checkSourceConditions(ctx, src);
  const srcSse = keyForRead(src.headers[SSE_C_VERIFIER], parseSseC(ctx, true));
  const sse = parseSseC(ctx);
  const directive = h(ctx, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'x-amz-metadata-directive must be COPY or REPLACE.');
  const changes = sse || srcSse || h(ctx, 'x-amz-storage-class') !== undefined;
  if (directive === 'COPY' && !changes && src.bucket === ctx.bucket && src.key === ctx.key)
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata.",
    );
  const meta = directive === 'REPLACE' ? requestMetadata(ctx) : { headers: { ...src.headers }, meta: { ...src.meta } };
  const sc = h(ctx, 'x-amz-storage-class');
  if (directive === 'COPY' && sc !== undefined) meta.headers['x-amz-storage-class'] = requestMetadata(ctx).headers['x-amz-storage-class'] as string;
  delete meta.headers[SSE_C_VERIFIER];
  if (sse) meta.headers[SSE_C_VERIFIER] = verifierFor(sse);
  const conditions = writeConditions(ctx);
  const unpin = ctx.app.blobs.pin(src.segments);
  let segments: Segment[];
  try {
    segments =
      sse || srcSse ? await ctx.app.blobs.recode(src.segments, srcSse?.key, sse?.key) : await ctx.app.blobs.linkCopy(src.segments);
  } finally {
    unpin();
  }
  const row: ObjectRow = {
    ...src,
    bucket: ctx.bucket as string,
    key: ctx.key as string,
    modified: ctx.app.now(),
    segments,
    headers: meta.headers,
    meta: meta.meta,
  };
  const newFiles = segments.map(([f]) => f);
  const old = await commitObject(ctx, row, () => checkWrite(conditions, ctx.app.db.getObject(row.bucket, row.key)), newFiles);
  await ctx.app.blobs.remove(old);
  sendXml(
    ctx,
    toXml('CopyObjectResult', {
      ETag: etagQuote(row.etag),
      LastModified: isoDate(row.modified),
      ...(row.checksumAlg && row.checksum ? { [`Checksum${row.checksumAlg}`]: row.checksum } : {}),
    }),
    sseHeaders(sse),
  );
}
