import { pipeline } from 'node:stream/promises';
import { headerName } from '../checksums.js';
import { S3Error } from '../errors.js';
import { BodyVerifier, bodySource, readSmallBody, wantedChecksums } from '../http/body.js';
import { checkRead, checkWrite, writeConditions } from '../http/conditions.js';
import { type Ctx, etagQuote, h, q, send, sendXml } from '../http/context.js';
import { objectHeaders, requestMetadata, sniffContentType } from '../http/metadata.js';
import { checkKey } from '../keys.js';
import { keyForRead, parseSseC, SSE_C_VERIFIER, type SseKey, sseHeaders, verifierFor } from '../sse-c.js';
import type { ObjectRow, Segment } from '../store/db.js';
import { asArray, onlyKeys, parseXml, text, toXml } from '../xml.js';
import { requireBucket } from './buckets.js';

/** R2's single-request limit: 5 GiB minus 5 MiB. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3 - 5 * 1024 ** 2;

/**
 * Streams a request body into a new data file while hashing it, then verifies every digest the
 * request declared. Returns the file id, size and digests; the file is removed on any failure.
 */
export async function ingest(ctx: Ctx, extra: Parameters<typeof BodyVerifier.create>[2] = [], sse?: SseKey) {
  const wanted = wantedChecksums(ctx);
  const source = bodySource(ctx);
  if (!source.known) throw new S3Error('MissingContentLength');
  if (source.length > MAX_PUT_BYTES) throw new S3Error('EntityTooLarge');
  const verifier = await BodyVerifier.create(ctx, wanted, extra, source.length);
  let head: Buffer | undefined;
  const onChunk = (chunk: Buffer) => {
    head ??= chunk.subarray(0, 16);
    const behind = verifier.update(chunk);
    if (verifier.size > source.length) throw new S3Error('IncompleteBody', 'The body is longer than its declared length.');
    return behind;
  };
  // An empty body needs no data file (folder markers, empty files): no file, no fsync.
  const id = source.length === 0 ? '' : ctx.app.blobs.newId();
  try {
    if (id === '') for await (const chunk of source.stream as AsyncIterable<Buffer>) await onChunk(chunk);
    else await ctx.app.blobs.write(id, source.stream, onChunk, sse?.key);
  } catch (err) {
    verifier.dispose();
    throw err;
  }
  try {
    const digests = await verifier.verify(source);
    return { id, size: verifier.size, digests, wanted, head: head ?? Buffer.alloc(0) };
  } catch (err) {
    await ctx.app.blobs.remove([id]);
    throw err;
  }
}

export async function putObject(ctx: Ctx) {
  requireBucket(ctx);
  const bucket = ctx.bucket as string;
  const key = ctx.key as string;
  const { headers, meta } = requestMetadata(ctx);
  const sse = parseSseC(ctx);
  if (sse) headers[SSE_C_VERIFIER] = verifierFor(sse);
  const conditions = writeConditions(ctx);
  checkWrite(conditions, ctx.app.db.getObject(bucket, key));
  const body = await ingest(ctx, [], sse);
  headers['content-type'] ??= sniffContentType(body.head);
  const alg = body.wanted.alg;
  const checksum = alg ? (body.digests.get(alg) as Buffer).toString('base64') : null;
  const row: ObjectRow = {
    bucket,
    key,
    size: body.size,
    etag: (body.digests.get('MD5') as Buffer).toString('hex'),
    modified: ctx.app.now(),
    segments: body.id ? [[body.id, body.size]] : [],
    headers,
    meta,
    checksumAlg: alg ?? null,
    checksumType: alg ? 'FULL_OBJECT' : null,
    checksum,
    parts: null,
  };
  const old = await commitObject(ctx, row, () => checkWrite(conditions, ctx.app.db.getObject(bucket, key)), [body.id]);
  await ctx.app.blobs.remove(old);
  const out: Record<string, string> = { etag: etagQuote(row.etag), ...sseHeaders(sse) };
  if (alg && checksum) {
    out[headerName(alg)] = checksum;
    out['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  send(ctx, 200, out);
}

/**
 * The commit point: one transaction re-checks conditions and swaps the metadata. Returns the
 * replaced object's files (to delete now) — or deletes `newFiles` and rethrows if it fails.
 */
export async function commitObject(ctx: Ctx, row: ObjectRow, check: () => void, newFiles: string[]): Promise<string[]> {
  try {
    return await ctx.app.db.commit(() => {
      check();
      const cur = ctx.app.db.getObject(row.bucket, row.key);
      ctx.app.db.putObject(row);
      return cur ? cur.segments.map(([f]) => f) : [];
    });
  } catch (err) {
    await ctx.app.blobs.remove(newFiles);
    throw err;
  }
}

function getExisting(ctx: Ctx): ObjectRow {
  requireBucket(ctx);
  const obj = ctx.app.db.getObject(ctx.bucket as string, ctx.key as string);
  if (!obj) throw new S3Error('NoSuchKey');
  return obj;
}

/** Byte range [start, end] and extra headers for Range / partNumber reads. */
function selectRange(ctx: Ctx, obj: ObjectRow): { start: number; end: number; partial: boolean; extra: Record<string, string | number> } {
  const whole = { start: 0, end: obj.size - 1, partial: false, extra: {} };
  const partNumber = q(ctx, 'partNumber');
  const range = h(ctx, 'range');
  if (partNumber !== undefined) {
    if (range !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter.');
    if (!/^\d{1,5}$/.test(partNumber) || Number(partNumber) < 1 || Number(partNumber) > 10000)
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
    const n = Number(partNumber);
    const sizes = obj.parts ?? [obj.size];
    if (n > sizes.length) throw new S3Error('InvalidPartNumber');
    const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
    const end = start + (sizes[n - 1] as number) - 1;
    const extra = { 'x-amz-mp-parts-count': sizes.length, 'content-range': `bytes ${start}-${end}/${obj.size}` };
    return { start, end, partial: obj.parts !== null, extra };
  }
  if (range === undefined || obj.size === 0) return whole;
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return whole; // unparseable or multi-range: whole object, like S3
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw new S3Error('InvalidRange');
    start = Math.max(0, obj.size - suffix);
    end = obj.size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? obj.size - 1 : Math.min(Number(m[2]), obj.size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return whole;
  }
  if (start >= obj.size) throw new S3Error('InvalidRange');
  return { start, end, partial: true, extra: { 'content-range': `bytes ${start}-${end}/${obj.size}` } };
}

export function headObject(ctx: Ctx) {
  const obj = getExisting(ctx);
  const sse = keyForRead(obj.headers[SSE_C_VERIFIER], parseSseC(ctx));
  const headers = { ...objectHeaders(ctx, obj), ...sseHeaders(sse) };
  if (checkRead(ctx, obj) === 304) return send(ctx, 304, { etag: headers.etag as string, 'last-modified': headers['last-modified'] as string });
  // Range has no effect on HeadObject (R2); partNumber does.
  const r = q(ctx, 'partNumber') !== undefined ? selectRange(ctx, obj) : { start: 0, end: obj.size - 1, partial: false, extra: {} };
  send(ctx, r.partial ? 206 : 200, { ...headers, ...r.extra, 'content-length': r.end - r.start + 1 });
}

export async function getObject(ctx: Ctx) {
  const obj = getExisting(ctx);
  const sse = keyForRead(obj.headers[SSE_C_VERIFIER], parseSseC(ctx));
  const headers = { ...objectHeaders(ctx, obj), ...sseHeaders(sse) };
  if (checkRead(ctx, obj) === 304) return send(ctx, 304, { etag: headers.etag as string, 'last-modified': headers['last-modified'] as string });
  const r = selectRange(ctx, obj);
  if (r.partial) for (const k of Object.keys(headers)) if (k.startsWith('x-amz-checksum-')) delete headers[k];
  const unpin = ctx.app.blobs.pin(obj.segments);
  try {
    const { res } = ctx;
    for (const [k, v] of Object.entries({ ...ctx.cors, ...headers, ...r.extra, 'content-length': r.end - r.start + 1 }))
      res.setHeader(k, v);
    res.writeHead(r.partial ? 206 : 200);
    if (r.end >= r.start) await pipeline(ctx.app.blobs.read(obj.segments as Segment[], r.start, r.end, sse?.key), res);
    else res.end();
  } finally {
    unpin();
  }
}

export async function deleteObject(ctx: Ctx) {
  requireBucket(ctx);
  const files = await ctx.app.db.commit(() => {
    const cur = ctx.app.db.getObject(ctx.bucket as string, ctx.key as string);
    if (cur) ctx.app.db.deleteObject(cur.bucket, cur.key);
    return cur ? cur.segments.map(([f]) => f) : [];
  });
  await ctx.app.blobs.remove(files);
  send(ctx, 204, {});
}

/** POST /bucket?delete — up to 1000 keys per request. */
export async function deleteObjects(ctx: Ctx) {
  requireBucket(ctx);
  const root = parseXml((await readSmallBody(ctx, 2 * 1024 * 1024)).toString('utf8'), 'Delete');
  onlyKeys(root, ['Object', 'Quiet']);
  const objects = asArray(root.Object as Record<string, unknown>[] | undefined);
  if (objects.length === 0 || objects.length > 1000) throw new S3Error('MalformedXML', 'Delete takes 1 to 1000 Object elements.');
  const quiet = text(root.Quiet) === 'true';
  const keys = objects.map((o) => {
    const k = typeof o === 'object' && o !== null ? text(o.Key) : undefined;
    if (k === undefined) throw new S3Error('MalformedXML', 'Each Object needs a Key.');
    return k;
  });
  const deleted: { Key: string }[] = [];
  const errors: { Key: string; Code: string; Message: string }[] = [];
  const files: string[] = [];
  ctx.app.db.tx(() => {
    for (const k of keys) {
      try {
        checkKey(k);
      } catch (e) {
        const err = e as S3Error;
        errors.push({ Key: k, Code: err.code, Message: err.message });
        continue;
      }
      const cur = ctx.app.db.getObject(ctx.bucket as string, k);
      if (cur) {
        files.push(...cur.segments.map(([f]) => f));
        ctx.app.db.deleteObject(cur.bucket, k);
      }
      deleted.push({ Key: k });
    }
  });
  await ctx.app.blobs.remove(files);
  sendXml(ctx, toXml('DeleteResult', { ...(quiet ? {} : { Deleted: deleted }), Error: errors }));
}
