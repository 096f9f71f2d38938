import { downloadRequestSchema, listUploadsQuerySchema } from '@chute/protocol';
import type { HandlerContext } from './context.js';
import { ChuteError } from './errors.js';
import { json, queryOf, readJson, validate } from './http.js';
import { assertOwnKey } from './policy.js';

/** POST /api/downloads — a presigned GET for one of the caller's objects. */
export async function download(ctx: HandlerContext): Promise<Response> {
  const body = await readJson(ctx.request, downloadRequestSchema, ctx.limits.maxBodyBytes);
  assertOwnKey(body.key, ctx.prefix);
  await ctx.store.head(body.key);
  const request = await ctx.store.presignGet(
    { key: body.key, ...(body.filename ? { filename: body.filename } : {}) },
    ctx.limits.urlTtlSeconds,
    ctx.nowMs,
  );
  return json({ key: body.key, request });
}

/** GET /api/uploads — the caller's stored objects, one page. */
export async function listUploads(ctx: HandlerContext): Promise<Response> {
  const q = validate(listUploadsQuerySchema, queryOf(ctx.url, ['cursor', 'limit']));
  const after = q.cursor ? decodeCursor(q.cursor, ctx.prefix) : undefined;
  const page = await ctx.store.listObjects(ctx.prefix, q.limit ?? 100, after);
  return json({ uploads: page.objects, ...(page.last ? { nextCursor: encodeCursor(page.last) } : {}) });
}

/**
 * The cursor is the signer's own, not the bucket's continuation token: base64url of the last key of
 * the page, listed from with StartAfter. So nothing a client sends reaches the bucket unchecked, and
 * a cursor can only point inside the caller's prefix.
 */
export const encodeCursor = (lastKey: string) => Buffer.from(lastKey, 'utf8').toString('base64url');

export function decodeCursor(cursor: string, prefix: string): string {
  const bytes = Buffer.from(cursor, 'base64url');
  let key: string | undefined;
  try {
    key = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    key = undefined;
  }
  // Canonical encoding only (no stray bits), a key this user could own (S3 keys are ≤ 1024 bytes).
  if (key === undefined || encodeCursor(key) !== cursor || bytes.byteLength > 1024 || !key.startsWith(prefix)) {
    throw new ChuteError('validation_failed', 'Invalid request: cursor: not a nextCursor this signer gave you; list again without it.', {
      details: { issues: [{ path: 'cursor', message: 'not a nextCursor of your listing' }] },
    });
  }
  return key;
}
