// Stock-Uppy upload ids: the store's UploadId wrapped in an HMAC token that also carries the
// upload's layout (file size, part size) and a hash of its key. Uppy keeps the id and sends it
// back on every later signRequest, so the signer is stateless and still knows, for each part,
// the one size it may sign — and refuses ids it never issued or moved to another key.
import { UPPY_UPLOAD_ID_MAX } from '@chute/protocol';
import type { HandlerContext } from './context.js';
import { ChuteError, isChuteError } from './errors.js';
import type { TokenPayload } from './token.js';

const PREFIX = 'chute1.';

/** What a wrapped id says about its upload. */
export interface UppyUpload {
  /** The store's UploadId. */
  u: string;
  /** File size in bytes. */
  s: number;
  /** Part size (Uppy's chunk maths already applied). */
  p: number;
}

interface UppyIdToken extends TokenPayload, UppyUpload {
  typ: 'uppyid';
  /** First 16 bytes of SHA-256(key), base64url: binds the id to its key. */
  kh: string;
}

async function keyHash(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  let s = '';
  for (const b of digest.subarray(0, 16)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function wrapUploadId(ctx: HandlerContext, key: string, upload: UppyUpload, exp: number): Promise<string> {
  const token: UppyIdToken = { typ: 'uppyid', ...upload, kh: await keyHash(key), exp };
  const wrapped = PREFIX + (await ctx.tokens.sign(token));
  if (wrapped.length > UPPY_UPLOAD_ID_MAX) {
    throw new ChuteError('storage_error', `The bucket issued an upload id of ${upload.u.length} characters, too long to carry.`);
  }
  return wrapped;
}

/**
 * The upload behind a wrapped id, for `key`. Refuses (400 `invalid_upload_id`) an id the signer
 * did not issue or that was altered, and (403 `forbidden`) one issued for another key.
 */
export async function unwrapUploadId(ctx: HandlerContext, key: string, wrapped: string, expiredGraceSeconds = 0): Promise<UppyUpload> {
  if (!wrapped.startsWith(PREFIX)) {
    throw new ChuteError('invalid_upload_id', 'This upload id was not issued by this signer: create the upload through it first.');
  }
  let t: UppyIdToken;
  try {
    t = await ctx.tokens.verify<UppyIdToken>(wrapped.slice(PREFIX.length), 'uppyid', Math.floor(ctx.nowMs / 1000), { expiredGraceSeconds });
  } catch (err) {
    if (isChuteError(err) && err.code === 'token_expired') {
      throw new ChuteError('token_expired', 'This upload has expired; start it again.', { details: err.details ?? {} });
    }
    throw new ChuteError('invalid_upload_id', 'This upload id was altered or not issued by this signer.');
  }
  if (t.kh !== (await keyHash(key))) throw new ChuteError('forbidden', 'This upload id belongs to another key.');
  return { u: t.u, s: t.s, p: t.p };
}
