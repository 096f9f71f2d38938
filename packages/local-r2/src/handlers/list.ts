import { S3Error } from '../errors.js';
import { type Ctx, etagQuote, q, sendXml } from '../http/context.js';
import { NO_END, prefixEnd } from '../keys.js';
import type { ObjectRow, UploadRow } from '../store/db.js';
import { isoDate, toXml } from '../xml.js';
import { OWNER, requireBucket } from './buckets.js';

/** "Strictly after `key`" (or "from `key`" when inclusive); for uploads, `id` breaks ties. */
interface Cursor {
  key: string | Buffer;
  inclusive: boolean;
  id: string;
}

interface ScanResult<T> {
  items: T[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned (the next page starts after it). */
  last?: { key: string; item?: T };
}

/**
 * One listing page with S3's delimiter rollup, done as indexed range queries: each common
 * prefix costs one seek past all its keys, so a page never walks more rows than it returns.
 */
function scan<T>(opts: {
  prefix: string;
  delimiter: string;
  max: number;
  start: Cursor;
  fetch: (c: Cursor, limit: number) => T[];
  keyOf: (t: T) => string;
  idOf?: (t: T) => string;
}): ScanResult<T> {
  const { prefix, delimiter, max } = opts;
  const out: ScanResult<T> = { items: [], prefixes: [], truncated: false };
  let cursor = opts.start;
  let count = 0;
  if (max === 0) return out;
  for (;;) {
    const limit = Math.min(max - count + 1, 1001);
    const batch = opts.fetch(cursor, limit);
    let reseek = false;
    for (const t of batch) {
      const key = opts.keyOf(t);
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (count === max) {
        out.truncated = true;
        return out;
      }
      count++;
      if (cut !== -1) {
        const cp = key.slice(0, cut + delimiter.length);
        out.prefixes.push(cp);
        out.last = { key: cp };
        cursor = { key: prefixEnd(cp), inclusive: true, id: '' };
        reseek = true;
        break;
      }
      out.items.push(t);
      out.last = { key, item: t };
      cursor = { key, inclusive: false, id: opts.idOf?.(t) ?? '' };
    }
    if (!reseek && batch.length < limit) return out;
  }
}

/** Where a page starts, given a marker (start-after, continuation token, key-marker). */
function startCursor(prefix: string, delimiter: string, marker: string | undefined, id = ''): Cursor {
  if (marker === undefined || marker < prefix) return { key: prefix, inclusive: true, id: '' };
  const cut = delimiter ? marker.indexOf(delimiter, prefix.length) : -1;
  if (cut !== -1 && marker.startsWith(prefix)) return { key: prefixEnd(marker.slice(0, cut + delimiter.length)), inclusive: true, id: '' };
  return { key: marker, inclusive: false, id };
}

function maxParam(ctx: Ctx, name: string): number {
  const v = q(ctx, name);
  if (v === undefined) return 1000;
  if (!/^\d+$/.test(v)) throw new S3Error('InvalidArgument', `${name} must be a non-negative integer.`);
  return Math.min(Number(v), 1000);
}

function encoder(ctx: Ctx): (s: string) => string {
  const e = q(ctx, 'encoding-type');
  if (e === undefined) return (s) => s;
  if (e !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/');
}

function scanObjects(ctx: Ctx, prefix: string, delimiter: string, max: number, marker: string | undefined) {
  const bucket = ctx.bucket as string;
  const end = prefixEnd(prefix);
  return scan<ObjectRow>({
    prefix,
    delimiter,
    max,
    start: startCursor(prefix, delimiter, marker),
    fetch: (c, limit) =>
      c.key === NO_END ? [] : ctx.app.db.rangeObjects(bucket, c.key as string, end, limit, c.inclusive),
    keyOf: (o) => o.key,
  });
}

const contents = (o: ObjectRow, enc: (s: string) => string, owner: boolean) => ({
  Key: enc(o.key),
  LastModified: isoDate(o.modified),
  ETag: etagQuote(o.etag),
  Size: o.size,
  StorageClass: o.headers['x-amz-storage-class'] ?? 'STANDARD',
  ...(o.checksumAlg ? { ChecksumAlgorithm: o.checksumAlg, ChecksumType: o.checksumType ?? 'FULL_OBJECT' } : {}),
  ...(owner ? { Owner: OWNER } : {}),
});

export function listObjectsV2(ctx: Ctx) {
  requireBucket(ctx);
  const prefix = q(ctx, 'prefix') ?? '';
  const delimiter = q(ctx, 'delimiter') ?? '';
  const max = maxParam(ctx, 'max-keys');
  const enc = encoder(ctx);
  const token = q(ctx, 'continuation-token');
  const startAfter = q(ctx, 'start-after');
  let marker = startAfter;
  if (token !== undefined) {
    marker = Buffer.from(token, 'base64url').toString('utf8');
    if (token === '' || Buffer.from(marker, 'utf8').toString('base64url') !== token)
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
  }
  const page = scanObjects(ctx, prefix, delimiter, max, marker);
  const owner = q(ctx, 'fetch-owner') === 'true';
  sendXml(
    ctx,
    toXml('ListBucketResult', {
      Name: ctx.bucket,
      Prefix: enc(prefix),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      MaxKeys: max,
      KeyCount: page.items.length + page.prefixes.length,
      IsTruncated: page.truncated,
      ...(q(ctx, 'encoding-type') ? { EncodingType: 'url' } : {}),
      ...(token !== undefined ? { ContinuationToken: token } : {}),
      ...(page.truncated && page.last ? { NextContinuationToken: Buffer.from(page.last.key).toString('base64url') } : {}),
      ...(startAfter !== undefined ? { StartAfter: enc(startAfter) } : {}),
      Contents: page.items.map((o) => contents(o, enc, owner)),
      CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  );
}

/** ListObjects (v1): same engine, marker-based. */
export function listObjectsV1(ctx: Ctx) {
  requireBucket(ctx);
  const prefix = q(ctx, 'prefix') ?? '';
  const delimiter = q(ctx, 'delimiter') ?? '';
  const max = maxParam(ctx, 'max-keys');
  const enc = encoder(ctx);
  const marker = q(ctx, 'marker');
  const page = scanObjects(ctx, prefix, delimiter, max, marker);
  sendXml(
    ctx,
    toXml('ListBucketResult', {
      Name: ctx.bucket,
      Prefix: enc(prefix),
      Marker: enc(marker ?? ''),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      MaxKeys: max,
      IsTruncated: page.truncated,
      ...(q(ctx, 'encoding-type') ? { EncodingType: 'url' } : {}),
      ...(page.truncated && delimiter && page.last ? { NextMarker: enc(page.last.key) } : {}),
      Contents: page.items.map((o) => contents(o, enc, true)),
      CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  );
}

export function listMultipartUploads(ctx: Ctx) {
  requireBucket(ctx);
  const bucket = ctx.bucket as string;
  const prefix = q(ctx, 'prefix') ?? '';
  const delimiter = q(ctx, 'delimiter') ?? '';
  const max = maxParam(ctx, 'max-uploads');
  const enc = encoder(ctx);
  const keyMarker = q(ctx, 'key-marker');
  const idMarker = keyMarker === undefined ? undefined : q(ctx, 'upload-id-marker');
  const end = prefixEnd(prefix);
  const page = scan<UploadRow>({
    prefix,
    delimiter,
    max,
    // Without upload-id-marker, every upload of key-marker itself is skipped ('~' sorts after hex ids).
    start: startCursor(prefix, delimiter, keyMarker, idMarker ?? '~'),
    fetch: (c, limit) => {
      if (c.key === NO_END) return [];
      const key = c.key as string;
      // inclusive → every upload of `key`; otherwise uploads of `key` with a larger id, then later keys.
      return ctx.app.db.uploadsAfter(bucket, prefix, end, key, c.inclusive ? '' : c.id, limit).filter((u) => c.inclusive || u.key >= key);
    },
    keyOf: (u) => u.key,
    idOf: (u) => u.id,
  });
  const last = page.last?.item;
  sendXml(
    ctx,
    toXml('ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: enc(keyMarker ?? ''),
      UploadIdMarker: idMarker ?? '',
      ...(page.truncated ? { NextKeyMarker: enc(page.last?.key ?? ''), NextUploadIdMarker: last?.id ?? '' } : {}),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      Prefix: enc(prefix),
      MaxUploads: max,
      IsTruncated: page.truncated,
      ...(q(ctx, 'encoding-type') ? { EncodingType: 'url' } : {}),
      Upload: page.items.map((u) => ({
        Key: enc(u.key),
        UploadId: u.id,
        Initiator: OWNER,
        Owner: OWNER,
        StorageClass: u.headers['x-amz-storage-class'] ?? 'STANDARD',
        Initiated: isoDate(u.initiated),
        ...(u.checksumAlg ? { ChecksumAlgorithm: u.checksumAlg, ChecksumType: u.checksumType } : {}),
      })),
      CommonPrefixes: page.prefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  );
}
