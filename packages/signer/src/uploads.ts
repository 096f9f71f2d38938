import {
  CHECKSUM_TYPE,
  type ChecksumAlgorithm,
  choosePartSize,
  type CompleteUploadResponse,
  completeUploadRequestSchema,
  createBatchRequestSchema,
  type CreateBatchResponse,
  type CreateBatchResult,
  createUploadRequestSchema,
  type CreateUploadRequestParsed,
  type CreateUploadResponse,
  isChecksumValue,
  MAX_SINGLE_PUT_SIZE,
  partCount,
  partSizeOf,
  signPartsRequestSchema,
  UPLOAD_TOKEN_HEADER,
} from '@chute/protocol';
import { knownMultiplexed } from './config.js';
import type { HandlerContext, UploadToken } from './context.js';
import { discardTokenFor } from './discard.js';
import { ChuteError, toChuteError } from './errors.js';
import { decideCreate, notifyAbort, notifyComplete, notifyCompleting } from './hooks.js';
import { bodyOf, json, readJson } from './http.js';
import { checkContentType, checkSize, newObjectKey, normalizeContentType } from './policy.js';
import type { Checksum } from './s3.js';
import { verifyCompleted } from './verify.js';

function checksumOf(algorithm: ChecksumAlgorithm | 'NONE', value: string | undefined, what: string): Checksum | undefined {
  if (value === undefined) return undefined;
  if (algorithm === 'NONE') throw new ChuteError('validation_failed', `${what}: a checksum was given but the checksum algorithm is NONE.`);
  if (!isChecksumValue(algorithm, value)) {
    throw new ChuteError('invalid_checksum', `${what}: the checksum is not base64 of a ${algorithm} digest.`);
  }
  return { algorithm, value };
}

/** R2 refuses a request with two checksums ("You can only specify one non-default checksum at a time"). */
function oneChecksum(what: string): ChuteError {
  return new ChuteError('validation_failed', `Give one checksum for ${what}: md5 or checksum, not both (R2 refuses two in one request).`);
}

/** POST /api/uploads */
export async function createUpload(ctx: HandlerContext): Promise<Response> {
  return json(await createOne(ctx, await readJson(ctx.request, createUploadRequestSchema, ctx.limits.maxBodyBytes)), 201);
}

/**
 * POST /api/uploads/batch: each file as POST /api/uploads would make it, in order, one after the
 * other (quotas and hooks see them as separate creates); a refused file does not stop the others.
 */
export async function createUploads(ctx: HandlerContext): Promise<Response> {
  const { files } = await readJson(ctx.request, createBatchRequestSchema, ctx.limits.maxBodyBytes);
  const results: CreateBatchResult[] = [];
  for (const [i, file] of files.entries()) {
    try {
      if (file.multipart === true || (file.multipart === undefined && file.size >= ctx.limits.multipartThreshold)) {
        throw new ChuteError(
          'validation_failed',
          `files.${i}: a batch creates single PUTs only; create a multipart upload (this file: ${file.size} bytes) with POST /api/uploads.`,
        );
      }
      const upload = await createOne(ctx, { ...file, multipart: false });
      if (upload.type !== 'single') throw new Error('a single-PUT create answered multipart');
      results.push({ upload });
    } catch (err) {
      const e = toChuteError(err);
      // An unexpected failure is logged like a failed request's; the file gets the same opaque answer.
      if (e.status >= 500) ctx.logError?.(e.cause ?? e);
      results.push(e.toBody());
    }
  }
  return json({ results } satisfies CreateBatchResponse);
}

async function createOne(ctx: HandlerContext, body: CreateUploadRequestParsed): Promise<CreateUploadResponse> {
  const contentType = normalizeContentType(body.type);
  checkContentType(contentType, ctx.limits);
  checkSize(body.size, ctx.limits);
  const fallback = ctx.options.checksumAlgorithm ?? 'CRC64NVME';
  const asked = body.checksumAlgorithm ?? fallback;
  // A client that brings its own checksum value keeps its algorithm (the value is for it).
  const algorithm = ctx.options.storeChecksums && !ctx.options.storeChecksums.includes(asked) && body.checksum === undefined ? fallback : asked;
  const multipart = body.multipart ?? body.size >= ctx.limits.multipartThreshold;
  const decided = await decideCreate(ctx, {
    key: newObjectKey(ctx.prefix, body.name),
    name: body.name,
    size: body.size,
    contentType,
    metadata: body.metadata ?? {},
    multipart,
    via: 'chute',
    ...(body.md5 ? { md5: body.md5 } : {}),
    ...(!multipart && body.checksum ? { checksum: { algorithm, value: body.checksum } } : {}),
    ...(!multipart ? { expiresAt: new Date(ctx.nowMs + ctx.limits.urlTtlSeconds * 1000).toISOString() } : {}),
  });
  const key = decided.key;
  const metadata = decided.metadata;

  if (!multipart) {
    if (body.size > MAX_SINGLE_PUT_SIZE) {
      throw new ChuteError('validation_failed', `A single PUT holds at most ${MAX_SINGLE_PUT_SIZE} bytes; use multipart.`);
    }
    if (body.md5 && body.checksum) throw oneChecksum('the file');
    if (ctx.limits.requireMd5 && !body.md5 && !body.checksum) {
      throw new ChuteError('checksum_required', 'Give the Content-MD5 of the file (md5) or its checksum so the bucket can check it.');
    }
    const checksum = checksumOf(algorithm, body.checksum, 'checksum');
    await ctx.quotas?.chargeBytes(ctx.identity.userId, body.size, ctx.nowMs);
    await ctx.charge?.(1);
    const request = await ctx.store.presignPut(
      {
        key,
        contentType,
        size: body.size,
        ...(body.md5 ? { md5: body.md5 } : {}),
        ...(checksum ? { checksum } : {}),
        ...(metadata ? { metadata } : {}),
      },
      ctx.limits.urlTtlSeconds,
      ctx.nowMs,
    );
    return { type: 'single', key, request, discardToken: await discardTokenFor(ctx, key), ...storeHint(ctx) };
  }

  if (body.md5 || body.checksum) {
    throw new ChuteError('validation_failed', 'md5 and checksum at create are for single PUTs; multipart sends them per part.');
  }
  let partSize: number;
  try {
    partSize = choosePartSize(body.size, { preferred: body.partSize ?? ctx.limits.defaultPartSize, maxParts: ctx.limits.maxParts });
  } catch (err) {
    throw new ChuteError('too_many_parts', `The file needs more than ${ctx.limits.maxParts} parts.`, { cause: err });
  }
  const exp = Math.floor(ctx.nowMs / 1000) + ctx.limits.tokenTtlSeconds;
  const createMultipart = () =>
    ctx.store.createMultipart({
      key,
      contentType,
      algorithm,
      ...(metadata ? { metadata } : {}),
    });
  // The open-upload slot lives as long as the token, so a forgotten upload frees it.
  const uploadId = ctx.quotas
    ? await ctx.quotas.around(ctx.identity.userId, key, body.size, exp * 1000, ctx.nowMs, createMultipart)
    : await createMultipart();
  const composite = algorithm !== 'NONE' && CHECKSUM_TYPE[algorithm] === 'COMPOSITE';
  const payload: UploadToken = {
    typ: 'upload',
    k: key,
    u: uploadId,
    s: body.size,
    p: partSize,
    a: algorithm,
    // COMPOSITE parts carry their own checksum instead of Content-MD5 (one checksum per request).
    m: ctx.limits.requireMd5 && !composite,
    sub: ctx.identity.userId,
    exp,
  };
  return {
    type: 'multipart',
    key,
    uploadId,
    partSize,
    partCount: partCount(body.size, partSize),
    checksumAlgorithm: algorithm,
    ...(algorithm !== 'NONE' ? { checksumType: CHECKSUM_TYPE[algorithm] } : {}),
    md5Required: payload.m,
    token: await ctx.tokens.sign(payload),
    tokenExpiresAt: new Date(exp * 1000).toISOString(),
    storeOrigin: await ctx.store.origin(ctx.nowMs),
    ...storeHint(ctx),
  };
}

/** Whether browsers reach the store multiplexed (HTTP/2+), when known: clients size their requests in flight by it. */
function storeHint(ctx: HandlerContext): { storeMultiplexed?: boolean } {
  const set = ctx.options.s3.multiplexed;
  const m = (typeof set === 'function' ? set() : set) ?? knownMultiplexed(ctx.options.s3.endpoint);
  return m === undefined ? {} : { storeMultiplexed: m };
}

/** How long after its token expired the owner may still abort an upload (R2 drops it after 7 days anyway). */
const OWNER_ABORT_GRACE_SECONDS = 30 * 86_400;

/** Verifies an upload token for this route's upload and this caller. */
async function uploadToken(ctx: HandlerContext, token: string | null | undefined, expiredGraceSeconds = 0): Promise<UploadToken> {
  if (!token) throw new ChuteError('invalid_token', `The upload token is missing (body "token" or header ${UPLOAD_TOKEN_HEADER}).`);
  const t = await ctx.tokens.verify<UploadToken>(token, 'upload', Math.floor(ctx.nowMs / 1000), { expiredGraceSeconds });
  if (t.sub !== ctx.identity.userId) throw new ChuteError('forbidden', 'This upload belongs to another user.');
  if (t.u !== ctx.params.uploadId) throw new ChuteError('invalid_token', 'The upload token is for another upload.');
  return t;
}

/** POST /api/uploads/:uploadId/parts */
export async function signParts(ctx: HandlerContext): Promise<Response> {
  const body = await bodyOf(ctx, signPartsRequestSchema, ctx.limits.maxBodyBytes);
  const t = await uploadToken(ctx, body.token);
  const count = partCount(t.s, t.p);
  const composite = t.a !== 'NONE' && CHECKSUM_TYPE[t.a] === 'COMPOSITE';
  const toSign = body.parts.map((part) => {
    const n = part.partNumber;
    if (n > count) {
      throw new ChuteError('invalid_part_number', `Part ${n} does not exist; this upload has ${count} parts.`, {
        details: { partNumber: n, partCount: count },
      });
    }
    if (part.md5 && part.checksum) throw oneChecksum(`part ${n}`);
    if (composite && !part.checksum) throw new ChuteError('checksum_required', `Part ${n} needs its ${t.a} checksum.`);
    if (t.m && !part.md5 && !part.checksum) throw new ChuteError('checksum_required', `Part ${n} needs its Content-MD5 (md5).`);
    const checksum = checksumOf(t.a, part.checksum, `part ${n}`);
    return { partNumber: n, size: partSizeOf(n, t.p, t.s), ...(part.md5 ? { md5: part.md5 } : {}), ...(checksum ? { checksum } : {}) };
  });
  // Each URL costs a rate point of the user and a share of the upload's own URL budget, so
  // neither one request nor many can sign without bound.
  await ctx.charge?.(toSign.length);
  await ctx.chargeUpload?.(t.u, count, toSign.length);
  if (body.format === 'template') {
    const compact = await ctx.store.presignPartsTemplate(t.k, t.u, toSign, ctx.limits.urlTtlSeconds, ctx.nowMs);
    if (compact) {
      const parts = toSign.map((p, i) => ({ partNumber: p.partNumber, size: p.size, signature: compact.signatures[i], headers: compact.headers[i] }));
      return json({ template: compact.template, parts });
    }
    // Parts with different signed headers cannot share a template: answer with URLs.
  }
  const signed = await ctx.store.presignParts(t.k, t.u, toSign, ctx.limits.urlTtlSeconds, ctx.nowMs);
  const parts = signed.map((r, i) => ({ partNumber: toSign[i]?.partNumber, size: toSign[i]?.size, ...r }));
  return json({ parts });
}

/** GET /api/uploads/:uploadId/parts */
export async function listParts(ctx: HandlerContext): Promise<Response> {
  const t = await uploadToken(ctx, ctx.request.headers.get(UPLOAD_TOKEN_HEADER));
  const parts = await ctx.store.listAllParts(t.k, t.u, t.a);
  return json({ key: t.k, uploadId: t.u, parts });
}

const cleanEtag = (e: string) => e.replace(/^"|"$/g, '').toLowerCase();

/** POST /api/uploads/:uploadId/complete */
export async function completeUpload(ctx: HandlerContext): Promise<Response> {
  const body = await bodyOf(ctx, completeUploadRequestSchema, ctx.limits.maxBodyBytes);
  const t = await uploadToken(ctx, body.token);
  if (body.checksum !== undefined && t.a !== 'CRC64NVME') {
    throw new ChuteError('validation_failed', `A full-object checksum needs CRC64NVME; this upload uses ${t.a}.`);
  }
  if (body.checksum !== undefined && !isChecksumValue('CRC64NVME', body.checksum)) {
    throw new ChuteError('invalid_checksum', 'checksum is not base64 of a CRC64NVME digest.');
  }
  const count = partCount(t.s, t.p);
  const stored = await ctx.store.listAllParts(t.k, t.u, t.a);
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const missing: number[] = [];
  const wrongSize: { partNumber: number; expected: number; actual: number }[] = [];
  for (let n = 1; n <= count; n++) {
    const p = byNumber.get(n);
    const expected = partSizeOf(n, t.p, t.s);
    if (!p) missing.push(n);
    else if (p.size !== expected) wrongSize.push({ partNumber: n, expected, actual: p.size });
  }
  const extra = stored.filter((p) => p.partNumber > count).map((p) => p.partNumber);
  if (missing.length || wrongSize.length || extra.length) {
    throw new ChuteError(
      'upload_incomplete',
      missing.length
        ? `${missing.length} of ${count} parts are not in the bucket yet (first: ${missing[0]}).`
        : 'Some parts in the bucket do not have the size this upload needs.',
      { details: { missing: missing.slice(0, 50), wrongSize: wrongSize.slice(0, 50), extra: extra.slice(0, 50) } },
    );
  }
  if (body.parts) {
    const mismatched = body.parts
      .filter((p) => {
        const s = byNumber.get(p.partNumber);
        return !s || cleanEtag(s.etag) !== cleanEtag(p.etag);
      })
      .map((p) => p.partNumber);
    if (mismatched.length) {
      throw new ChuteError('checksum_mismatch', `The bucket holds other bytes for ${mismatched.length} part(s) than the client sent.`, {
        details: { partNumbers: mismatched.slice(0, 50) },
      });
    }
  }
  const parts = stored.filter((p) => p.partNumber <= count);
  const composite = t.a !== 'NONE' && CHECKSUM_TYPE[t.a] === 'COMPOSITE';
  // A store that keeps no additional checksums lists none at all (Ceph radosgw): that lowers the
  // verification level; some parts with and some without is a broken upload.
  const withChecksum = parts.filter((p) => p.checksum).length;
  if (composite && withChecksum > 0 && withChecksum < parts.length) {
    throw new ChuteError('upload_incomplete', `Some parts were stored without their ${t.a} checksum.`);
  }
  await notifyCompleting(ctx, { userId: t.sub, key: t.k, via: 'chute', uploadId: t.u, size: t.s });
  const done = await ctx.store.complete({
    key: t.k,
    uploadId: t.u,
    parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, ...(p.checksum ? { checksum: p.checksum } : {}) })),
    algorithm: t.a,
    ...(body.checksum ? { fullChecksum: body.checksum } : {}),
  });
  await ctx.quotas?.close(t.sub, t.k);
  const head = await ctx.store.headChecked(t.k, t.a).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
  const outcome = verifyCompleted({
    size: t.s,
    algorithm: t.a,
    partsEnforced: composite ? withChecksum === parts.length : t.m,
    // The listed ETags are the file's part MD5s when the store enforced Content-MD5 or the client confirmed them.
    ...(t.m || body.parts ? { partEtags: parts.map((p) => p.etag) } : {}),
    ...(body.checksum ? { clientChecksum: body.checksum } : {}),
    completed: done,
    head,
  });
  if (!outcome.ok) {
    // Never leave a wrong object listed as uploaded.
    const removed = await ctx.store.deleteObject(t.k).then(
      () => true,
      () => false,
    );
    throw new ChuteError(
      'verification_failed',
      `The stored object differs from the file: ${outcome.differs.join('; ')}. ${removed ? 'It was removed; upload the file again.' : 'Removing it failed: delete it before trusting the key.'}`,
      { details: { key: t.k, differs: outcome.differs, removed } },
    );
  }
  // Only the bucket's own value is reported: the client trusts `checksum` as verified by the store.
  const value = done.checksum ?? ('error' in head ? undefined : head.checksum);
  const response: CompleteUploadResponse = {
    key: t.k,
    // Ceph radosgw answers complete with an empty ETag; HeadObject has the real one.
    etag: done.etag || ('error' in head ? '' : head.etag),
    size: t.s,
    ...(t.a !== 'NONE' && value ? { checksum: { algorithm: t.a, type: CHECKSUM_TYPE[t.a], value } } : {}),
    verification: outcome.verification,
  };
  await notifyComplete(ctx, {
    userId: t.sub,
    key: t.k,
    via: 'chute',
    uploadId: t.u,
    size: t.s,
    etag: response.etag,
    ...('error' in head || !head.contentType ? {} : { contentType: head.contentType }),
    ...(response.checksum ? { checksum: response.checksum } : {}),
    verification: outcome.verification,
  });
  return json(response);
}

/** DELETE /api/uploads/:uploadId */
export async function abortUpload(ctx: HandlerContext): Promise<Response> {
  // Owner abort: an expired token (valid MAC, same user) still aborts, so a stale upload can be cleaned up.
  const t = await uploadToken(ctx, ctx.request.headers.get(UPLOAD_TOKEN_HEADER), OWNER_ABORT_GRACE_SECONDS);
  await ctx.store.abort(t.k, t.u);
  await ctx.quotas?.close(t.sub, t.k);
  await notifyAbort(ctx, { userId: t.sub, key: t.k, via: 'chute', uploadId: t.u });
  return json({ aborted: true, key: t.k, uploadId: t.u });
}
