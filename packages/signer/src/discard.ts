import { discardRequestSchema } from '@chute/protocol';
import type { DiscardToken, HandlerContext, UploadToken } from './context.js';
import { ChuteError } from './errors.js';
import { json, readJson } from './http.js';

const clean = (e: string) => e.replace(/^"|"$/g, '').toLowerCase();

/** A single PUT's discard token: lets its owner remove the object when the client's own check fails. */
export function discardTokenFor(ctx: HandlerContext, key: string): Promise<string> {
  const payload: DiscardToken = {
    typ: 'discard',
    k: key,
    sub: ctx.identity.userId,
    exp: Math.floor(ctx.nowMs / 1000) + ctx.limits.tokenTtlSeconds,
  };
  return ctx.tokens.sign(payload);
}

/**
 * POST /api/uploads/discard — removes the object of one upload whose verification failed in the
 * client, so it is never listed as uploaded. Only the key the token names, only for its owner,
 * and only while the object's ETag is the one the client judged wrong.
 */
export async function discardUpload(ctx: HandlerContext): Promise<Response> {
  const body = await readJson(ctx.request, discardRequestSchema, ctx.limits.maxBodyBytes);
  const now = Math.floor(ctx.nowMs / 1000);
  let t: DiscardToken | UploadToken;
  try {
    t = await ctx.tokens.verify<DiscardToken>(body.token, 'discard', now);
  } catch (err) {
    if (!(err instanceof ChuteError && err.code === 'invalid_token')) throw err;
    t = await ctx.tokens.verify<UploadToken>(body.token, 'upload', now);
  }
  if (t.sub !== ctx.identity.userId)
    throw new ChuteError('forbidden', 'This upload belongs to another user.');
  if (t.typ === 'upload') await ctx.store.abort(t.k, t.u);
  const head = await ctx.store.head(t.k).catch((err: unknown) => {
    if (err instanceof ChuteError && err.code === 'not_found') return undefined;
    throw err;
  });
  if (!head || clean(head.etag) !== clean(body.etag)) return json({ key: t.k, discarded: false });
  await ctx.store.deleteObject(t.k);
  return json({ key: t.k, discarded: true });
}
