import { MAX_PART_SIZE, MAX_PARTS, MAX_SINGLE_PUT_SIZE, partCount, partSizeOf, uppyChunkSize, uppySignRequestSchema } from '@chute/protocol';
import { XMLParser } from 'fast-xml-parser';
import type { HandlerContext } from './context.js';
import { ChuteError } from './errors.js';
import { decideCreate, notifyAbort, notifyComplete, notifyCompleting } from './hooks.js';
import { escapeXml, json, queryOf, readJson, readText, xml } from './http.js';
import { assertOwnKey, checkContentType, checkSize, newObjectKey, normalizeContentType } from './policy.js';
import type { TokenPayload } from './token.js';
import { verifyCompleted } from './verify.js';
import { type UppyUpload, unwrapUploadId, wrapUploadId } from './uppy-ids.js';

/**
 * Stock `@uppy/aws-s3` 6 support. Part PUTs and single PUTs are presigned straight to the bucket,
 * each for its exact length; create, list, complete and abort (which R2 cannot presign) point at
 * the signer's own `/api/uppy/s3/*` endpoints, authorised by a short-lived token in the URL,
 * which do the call server-side and answer in the S3 XML shapes Uppy parses. The upload id Uppy
 * sees is wrapped (see uppy-ids.ts), so every later request proves which upload and layout it
 * belongs to.
 */

type UppyOp = 'create' | 'list' | 'complete' | 'abort';

interface UppyToken extends TokenPayload {
  typ: 'uppy';
  op: UppyOp;
  k: string;
  /** create: the declared layout; other ops: the store's UploadId and layout. */
  up: Partial<UppyUpload>;
  sub: string;
}

/** How long after its id expired the owner may still abort a stock-Uppy upload. */
const OWNER_ABORT_GRACE_SECONDS = 30 * 86_400;

async function selfUrl(ctx: HandlerContext, op: UppyOp, key: string, up: Partial<UppyUpload>): Promise<string> {
  const exp = Math.floor(ctx.nowMs / 1000) + ctx.limits.urlTtlSeconds;
  const t: UppyToken = { typ: 'uppy', op, k: key, sub: ctx.identity.userId, exp, up };
  const path = op === 'create' ? 'create' : op === 'list' ? 'parts' : op;
  return `${ctx.baseUrl}/api/uppy/s3/${path}?t=${encodeURIComponent(await ctx.tokens.sign(t))}`;
}

const lengthRequired = (what: string) =>
  new ChuteError('content_length_required', `Give ${what} in signRequest: the signer signs only URLs of a known length (chuteAwsS3Options adds it).`);

/** POST /api/uppy/sign — Uppy's `signRequest(request)` → `{ url, key?, headers? }`. */
export async function uppySign(ctx: HandlerContext): Promise<Response> {
  const r = await readJson(ctx.request, uppySignRequestSchema, ctx.limits.maxBodyBytes);
  const ttl = ctx.limits.urlTtlSeconds;
  if (ctx.limits.uppyRequireMd5 && r.method === 'PUT' && !r.contentMd5) {
    throw new ChuteError('checksum_required', 'Give contentMd5 so the bucket can check the bytes.');
  }
  if (r.method === 'PUT' && r.uploadId === undefined) {
    // Single PutObject.
    if (r.contentLength === undefined) throw lengthRequired('contentLength (the file size)');
    const contentType = normalizeContentType(r.contentType ?? '');
    checkContentType(contentType, ctx.limits);
    checkSize(r.contentLength, ctx.limits);
    const { key, metadata } = await decideCreate(ctx, {
      key: newObjectKey(ctx.prefix, r.key),
      name: r.key,
      size: r.contentLength,
      contentType,
      metadata: {},
      multipart: false,
      via: 'uppy',
      ...(r.contentMd5 ? { md5: r.contentMd5 } : {}),
      ...(r.checksumSha256 ? { checksum: { algorithm: 'SHA256', value: r.checksumSha256 } } : {}),
      expiresAt: new Date(ctx.nowMs + ttl * 1000).toISOString(),
    });
    await ctx.quotas?.chargeBytes(ctx.identity.userId, r.contentLength, ctx.nowMs);
    await ctx.charge?.(1);
    const signed = await ctx.store.presignPut(
      {
        key,
        contentType,
        size: r.contentLength,
        ...(r.contentMd5 ? { md5: r.contentMd5 } : {}),
        ...(r.checksumSha256 ? { checksum: { algorithm: 'SHA256' as const, value: r.checksumSha256 } } : {}),
        ...(metadata ? { metadata } : {}),
      },
      ttl,
      ctx.nowMs,
    );
    return json({ url: signed.url, key, headers: signed.headers });
  }
  if (r.method === 'POST' && r.uploadId === undefined) {
    if (r.size === undefined) throw lengthRequired('size (the file size) when creating a multipart upload');
    checkSize(r.size, ctx.limits);
    const p = uppyChunkSize(r.size, r.partSize);
    if (p > MAX_PART_SIZE) throw new ChuteError('validation_failed', 'A part holds at most 5 GiB: lower getChunkSize.');
    if (partCount(r.size, p) > ctx.limits.maxParts) {
      throw new ChuteError('too_many_parts', `The file needs more than ${ctx.limits.maxParts} parts: raise getChunkSize.`);
    }
    // Stock Uppy's create carries no metadata: the hook may refuse or rename (its metadata is ignored here).
    const { key } = await decideCreate(ctx, {
      key: newObjectKey(ctx.prefix, r.key),
      name: r.key,
      size: r.size,
      contentType: normalizeContentType(r.contentType ?? ''),
      metadata: {},
      multipart: true,
      via: 'uppy',
    });
    return json({ url: await selfUrl(ctx, 'create', key, { s: r.size, p }), key });
  }
  assertOwnKey(r.key, ctx.prefix);
  if (r.uploadId === undefined) {
    throw new ChuteError('bad_request', `Signing ${r.method} of a whole object is not supported.`);
  }
  const up = await unwrapUploadId(ctx, r.key, r.uploadId, r.method === 'DELETE' ? OWNER_ABORT_GRACE_SECONDS : 0);
  if (r.method === 'PUT') {
    if (r.partNumber === undefined) throw new ChuteError('validation_failed', 'partNumber is required for a part.');
    const count = partCount(up.s, up.p);
    if (r.partNumber > count) {
      throw new ChuteError('invalid_part_number', `This upload has ${count} part(s); there is no part ${r.partNumber}.`);
    }
    const size = partSizeOf(r.partNumber, up.p, up.s);
    if (r.contentLength !== undefined && r.contentLength !== size) {
      throw new ChuteError('invalid_part_size', `Part ${r.partNumber} of this upload is ${size} bytes, not ${r.contentLength}.`, {
        details: { partNumber: r.partNumber, size },
      });
    }
    if (size > MAX_SINGLE_PUT_SIZE) throw new ChuteError('validation_failed', 'A part holds at most 5 GiB.');
    await ctx.charge?.(1);
    await ctx.chargeUpload?.(up.u, count, 1);
    const [signed] = await ctx.store.presignParts(
      r.key,
      up.u,
      [
        {
          partNumber: r.partNumber,
          size,
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
  return json({ url: await selfUrl(ctx, op, r.key, up) });
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
  const { s: size, p: partSize } = t.up;
  if (size === undefined || partSize === undefined) throw new ChuteError('invalid_token', 'This signed URL carries no upload layout.');
  switch (t.op) {
    case 'create': {
      const contentType = normalizeContentType(ctx.request.headers.get('content-type') ?? '');
      checkContentType(contentType, ctx.limits);
      const create = () => ctx.store.createMultipart({ key, contentType, algorithm: 'NONE' });
      // The slot and the declared bytes are counted here, as on the Chute path; the layout
      // bounds what can be stored to exactly `size`.
      const exp = Math.floor(ctx.nowMs / 1000) + ctx.limits.tokenTtlSeconds;
      const raw = ctx.quotas ? await ctx.quotas.around(t.sub, key, size, exp * 1000, ctx.nowMs, create) : await create();
      const uploadId = await wrapUploadId(ctx, key, { u: raw, s: size, p: partSize }, exp);
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    case 'list': {
      const parts = await ctx.store.listAllParts(key, t.up.u as string);
      const items = parts
        .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${escapeXml(p.etag)}"</ETag><Size>${p.size}</Size></Part>`)
        .join('');
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${escapeXml(t.up.u as string)}</UploadId><IsTruncated>false</IsTruncated>${items}</ListPartsResult>`,
      );
    }
    case 'complete': {
      const requested = parseCompleteXml(await readText(ctx.request, ctx.limits.maxBodyBytes));
      const uploadId = t.up.u as string;
      const count = partCount(size, partSize);
      // Exactly parts 1..count, each stored with the ETag Uppy saw and its layout size: the
      // object is then exactly the declared size, whatever the client tried.
      if (requested.length !== count || requested.some((p, i) => p.partNumber !== i + 1)) {
        throw new ChuteError('upload_incomplete', `This upload has ${count} part(s); complete must list parts 1 to ${count} in order.`);
      }
      const stored = new Map((await ctx.store.listAllParts(key, uploadId)).map((p) => [p.partNumber, p]));
      for (const p of requested) {
        const s = stored.get(p.partNumber);
        if (!s || s.etag.toLowerCase() !== p.etag.toLowerCase()) {
          throw new ChuteError('upload_incomplete', `Part ${p.partNumber} is not in the bucket with that ETag.`);
        }
        if (s.size !== partSizeOf(p.partNumber, partSize, size)) {
          throw new ChuteError('upload_incomplete', `Part ${p.partNumber} in the bucket is ${s.size} bytes, not the ${partSizeOf(p.partNumber, partSize, size)} its layout gives.`);
        }
      }
      await notifyCompleting(ctx, { userId: t.sub, key, via: 'uppy', uploadId, size });
      const done = await ctx.store.complete({ key, uploadId, parts: requested, algorithm: 'NONE' });
      await ctx.quotas?.close(t.sub, key);
      if (ctx.options.onUploadComplete) {
        // Only when the app listens: one HeadObject, reported (this path never deletes: its layout was checked above).
        const head = await ctx.store.headChecked(key, 'NONE').catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
        const md5s = ctx.limits.uppyRequireMd5;
        const outcome = verifyCompleted({ size, algorithm: 'NONE', partsEnforced: md5s, ...(md5s ? { partEtags: requested.map((p) => p.etag) } : {}), completed: done, head });
        await notifyComplete(ctx, {
          userId: t.sub,
          key,
          via: 'uppy',
          uploadId,
          size,
          etag: done.etag || ('error' in head ? '' : head.etag),
          ...('error' in head || !head.contentType ? {} : { contentType: head.contentType }),
          verification: outcome.ok ? outcome.verification : { level: 'not-verifiable', checked: [], warning: `The stored object differs: ${outcome.differs.join('; ')}.` },
        });
      }
      const location = ctx.store.objectUrl(key);
      return xml(
        `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(ctx.store.bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${escapeXml(done.etag)}"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    case 'abort': {
      await ctx.store.abort(key, t.up.u as string);
      await ctx.quotas?.close(t.sub, key);
      await notifyAbort(ctx, { userId: t.sub, key, via: 'uppy', uploadId: t.up.u as string });
      return new Response(null, { status: 204 });
    }
  }
}

function parseCompleteXml(text: string): { partNumber: number; etag: string }[] {
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
  return requested;
}
