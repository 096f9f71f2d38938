import { downloadRequestSchema, listUploadsQuerySchema } from '@chute/protocol';
import type { HandlerContext } from './context.js';
import { json, readJson, validate } from './http.js';
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
  const q = validate(listUploadsQuerySchema, Object.fromEntries(ctx.url.searchParams));
  const page = await ctx.store.listObjects(ctx.prefix, q.limit, q.cursor);
  return json({ uploads: page.objects, ...(page.next ? { nextCursor: page.next } : {}) });
}
