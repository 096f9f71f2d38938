import { MAX_PARTS, MAX_SINGLE_PUT_SIZE, uppySignRequestSchema } from '@chute/protocol';
import { XMLParser } from 'fast-xml-parser';
import type { HandlerContext } from './context.js';
import { ChuteError } from './errors.js';
import { escapeXml, json, queryOf, readJson, readText, xml } from './http.js';
import { assertOwnKey, checkContentType, checkSize, newObjectKey, normalizeContentType } from './policy.js';
import type { TokenPayload } from './token.js';

/**
 * Stock `@uppy/aws-s3` 6 support. Part PUTs and single PUTs are presigned straight to the bucket;
 * create, list, complete and abort (which R2 cannot presign) point at the signer's own
 * `/api/uppy/s3/*` endpoints, authorised by a short-lived token in the URL, which do the call
 * server-side and answer in the S3 XML shapes Uppy parses.
 */

type UppyOp = 'create' | 'list' | 'complete' | 'abort';

interface UppyToken extends TokenPayload {
  typ: 'uppy';
  op: UppyOp;
  k: string;
  u?: string;
  sub: string;
}

async function selfUrl(ctx: HandlerContext, op: UppyOp, key: string, uploadId?: string): Promise<string> {
  const exp = Math.floor(ctx.nowMs / 1000) + ctx.limits.urlTtlSeconds;
  const t: UppyToken = { typ: 'uppy', op, k: key, sub: ctx.identity.userId, exp, ...(uploadId ? { u: uploadId } : {}) };
  const path = op === 'create' ? 'create' : op === 'list' ? 'parts' : op;
  return `${ctx.baseUrl}/api/uppy/s3/${path}?t=${encodeURIComponent(await ctx.tokens.sign(t))}`;
}

/** POST /api/uppy/sign — Uppy's `signRequest(request)` → `{ url, key?, headers? }`. */
export async function uppySign(ctx: HandlerContext): Promise<Response> {
  const r = await readJson(ctx.request, uppySignRequestSchema, ctx.limits.maxBodyBytes);
  const ttl = ctx.limits.urlTtlSeconds;
  if (ctx.limits.uppyRequireMd5 && r.method === 'PUT' && !r.contentMd5) {
    throw new ChuteError('checksum_required', 'Give contentMd5 so the bucket can check the bytes.');
  }
  if (r.method === 'PUT' && r.uploadId === undefined) {
    // Single PutObject.
    const contentType = normalizeContentType(r.contentType ?? '');
    checkContentType(contentType, ctx.limits);
    if (r.contentLength !== undefined) checkSize(r.contentLength, ctx.limits);
    if (r.contentLength !== undefined) await ctx.quotas?.chargeBytes(ctx.identity.userId, r.contentLength, ctx.nowMs);
    await ctx.charge?.(1);
    const key = newObjectKey(ctx.prefix, r.key);
    const signed = await ctx.store.presignPut(
      {
        key,
        contentType,
        ...(r.contentLength !== undefined ? { size: r.contentLength } : {}),
        ...(r.contentMd5 ? { md5: r.contentMd5 } : {}),
        ...(r.checksumSha256 ? { checksum: { algorithm: 'SHA256' as const, value: r.checksumSha256 } } : {}),
      },
      ttl,
      ctx.nowMs,
    );
    return json({ url: signed.url, key, headers: signed.headers });
  }
  if (r.method === 'POST' && r.uploadId === undefined) {
    const key = newObjectKey(ctx.prefix, r.key);
    return json({ url: await selfUrl(ctx, 'create', key), key });
  }
  assertOwnKey(r.key, ctx.prefix);
  if (r.uploadId === undefined) {
    throw new ChuteError('bad_request', `Signing ${r.method} of a whole object is not supported.`);
  }
  if (r.method === 'PUT') {
    if (r.partNumber === undefined) throw new ChuteError('validation_failed', 'partNumber is required for a part.');
    if (r.contentLength !== undefined && r.contentLength > MAX_SINGLE_PUT_SIZE) {
      throw new ChuteError('validation_failed', 'A part holds at most 5 GiB.');
    }
    await ctx.charge?.(1);
    const [signed] = await ctx.store.presignParts(
      r.key,
      r.uploadId,
      [
        {
          partNumber: r.partNumber,
          ...(r.contentLength !== undefined ? { size: r.contentLength } : {}),
          ...(r.contentMd5 ? { md5: r.contentMd5 } : {}),
          ...(r.checksumSha256 ? { checksum: { algorithm: 'SHA256' as const, value: r.checksumSha256 } } : {}),
        },
      ],
      ttl,
      ctx.nowMs,
    );
    if (!signed) throw new ChuteError('internal_error', 'No URL was signed.');
    return json({ url: signed.url, headers: signed.headers });
  }
  const op: UppyOp = r.method === 'GET' ? 'list' : r.method === 'POST' ? 'complete' : 'abort';
  return json({ url: await selfUrl(ctx, op, r.key, r.uploadId) });
}

/** Error in the S3 XML shape Uppy reads (it only parses `application/xml`). */
export function s3ErrorXml(err: ChuteError): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error>`;
  return new Response(body, { status: err.status, headers: { 'content-type': 'application/xml', ...err.headers } });
}

/** Identity of a self-URL request: the token in `?t=`. */
export async function uppyIdentity(request: Request, url: URL, op: UppyOp, verify: (t: string) => Promise<UppyToken>) {
  void request;
  const raw = queryOf(url, ['t']).t;
  if (!raw) throw new ChuteError('unauthorized', 'This URL needs its signed token.');
  const t = await verify(raw);
  if (t.op !== op) throw new ChuteError('invalid_token', 'This signed URL is for another operation.');
  return t;
}

export type { UppyOp, UppyToken };

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Part' });

/** The `/api/uppy/s3/*` endpoints, given an already verified token. */
export async function uppyS3(ctx: HandlerContext, t: UppyToken): Promise<Response> {
  const key = t.k;
  switch (t.op) {
    case 'create': {
      const contentType = normalizeContentType(ctx.request.headers.get('content-type') ?? '');
      checkContentType(contentType, ctx.limits);
      const create = () => ctx.store.createMultipart({ key, contentType, algorithm: 'NONE' });
      // The slot is counted here; the bytes at complete, where stock Uppy's size is first known.
      const expiresAtMs = ctx.nowMs + ctx.limits.tokenTtlSeconds * 1000;
      const uploadId = ctx.quotas ? await ctx.quotas.around(t.sub, key, 0, expiresAtMs, ctx.nowMs, create) : await create();
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    case 'list': {
      const parts = await ctx.store.listAllParts(key, t.u as string);
      const items = parts
        .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${escapeXml(p.etag)}"</ETag><Size>${p.size}</Size></Part>`)
        .join('');
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(t.u as string)}</UploadId><IsTruncated>false</IsTruncated>${items}</ListPartsResult>`,
      );
    }
    case 'complete': {
      const text = await readText(ctx.request, ctx.limits.maxBodyBytes);
      let requested: { partNumber: number; etag: string }[];
      try {
        const doc = parser.parse(text) as { CompleteMultipartUpload?: { Part?: { PartNumber?: string; ETag?: string }[] } };
        requested = (doc.CompleteMultipartUpload?.Part ?? []).map((p) => ({
          partNumber: Number(p.PartNumber),
          etag: String(p.ETag ?? '').replace(/^"|"$/g, ''),
        }));
      } catch {
        throw new ChuteError('bad_request', 'The CompleteMultipartUpload XML is malformed.');
      }
      if (requested.length === 0 || requested.length > MAX_PARTS || requested.some((p) => !Number.isInteger(p.partNumber) || p.partNumber < 1 || p.partNumber > MAX_PARTS)) {
        throw new ChuteError('bad_request', 'The CompleteMultipartUpload XML lists no valid parts.');
      }
      const stored = new Map((await ctx.store.listAllParts(key, t.u as string)).map((p) => [p.partNumber, p]));
      let size = 0;
      for (const p of requested) {
        const s = stored.get(p.partNumber);
        if (!s || s.etag.toLowerCase() !== p.etag.toLowerCase()) {
          throw new ChuteError('upload_incomplete', `Part ${p.partNumber} is not in the bucket with that ETag.`);
        }
        size += s.size;
      }
      if (size > ctx.limits.maxFileSize) {
        await ctx.store.abort(key, t.u as string);
        await ctx.quotas?.close(t.sub, key);
        checkSize(size, ctx.limits);
      }
      try {
        await ctx.quotas?.chargeBytes(t.sub, size, ctx.nowMs);
      } catch (err) {
        // Over the day's bytes: nothing is kept, as for maxFileSize.
        await ctx.store.abort(key, t.u as string);
        await ctx.quotas?.close(t.sub, key);
        throw err;
      }
      let done: Awaited<ReturnType<typeof ctx.store.complete>>;
      try {
        done = await ctx.store.complete({ key, uploadId: t.u as string, parts: requested, algorithm: 'NONE' });
      } catch (err) {
        await ctx.quotas?.refundBytes(t.sub, size); // a retried complete must not pay twice
        throw err;
      }
      await ctx.quotas?.close(t.sub, key);
      const location = ctx.store.objectUrl(key);
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${escapeXml(done.etag)}"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    case 'abort': {
      await ctx.store.abort(key, t.u as string);
      await ctx.quotas?.close(t.sub, key);
      return new Response(null, { status: 204 });
    }
  }
}
