// The preflight-free ("token") form of sign-parts and complete. A browser sends a cross-origin
// POST without an OPTIONS preflight only when it is CORS-simple: a `text/plain`, form or
// multipart body and no `Authorization` or custom header. So on those two routes a `text/plain`
// JSON body is accepted, authorised by the upload token it carries and by nothing else: no
// cookie, no Authorization, no ambient credential is looked at. Any page can send such a request,
// but without the token (an HMAC capability for one upload, handed only to the creator's own
// script in the create answer) it gets 401/403 and changes nothing. Every other JSON route refuses
// the simple body types (415), so a request that needs the user's credentials always needs a
// preflight too. See the signer README, "Preflight-free sign and complete".
import { TOKEN_FORM_CONTENT_TYPE } from '@chute/protocol';
import type { UploadToken } from './context.js';
import { ChuteError } from './errors.js';
import { readText } from './http.js';
import type { TokenSigner } from './token.js';

/** The media type of the request body, lower case, without parameters (`''` when none is given). */
export function mediaTypeOf(request: Request): string {
  const h = request.headers.get('content-type');
  return h === null ? '' : (h.split(';')[0] ?? '').trim().toLowerCase();
}

/** A `text/plain` body: the token form, on the routes that take it. */
export function isTokenForm(request: Request): boolean {
  return mediaTypeOf(request) === 'text/plain';
}

/**
 * A JSON route's body must be application/json, `+json`, or untyped; anything else (above all the CORS-simple
 * types text/plain, application/x-www-form-urlencoded and multipart/form-data) is 415 `unsupported_media_type`. `tokenForm` only changes the message.
 */
export function checkJsonBody(request: Request, tokenForm: boolean): void {
  const type = mediaTypeOf(request);
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return;
  throw new ChuteError(
    'unsupported_media_type',
    `This route reads a JSON body: send it as Content-Type: application/json${tokenForm ? ` (or ${TOKEN_FORM_CONTENT_TYPE} with the upload token in it and no Authorization)` : ''}, not ${type}.`,
    { details: { contentType: type, accepted: tokenForm ? ['application/json', TOKEN_FORM_CONTENT_TYPE] : ['application/json'] } },
  );
}

/** Reads a token-form body and verifies its upload token for `uploadId`: the caller is the token's user. */
export async function tokenFormIdentity(
  request: Request,
  uploadId: string,
  tokens: TokenSigner,
  limit: number,
  nowSeconds: number,
): Promise<{ token: UploadToken; body: unknown }> {
  // One credential per request, so which one counted is never in doubt.
  if (request.headers.has('authorization')) {
    throw new ChuteError(
      'bad_request',
      'A text/plain request to this route is authorised by the upload token in its body alone: send it without Authorization, or send JSON.',
    );
  }
  const text = await readText(request, limit);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ChuteError('bad_request', 'The request body is not valid JSON.');
  }
  const token = body !== null && typeof body === 'object' ? (body as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token.length === 0) {
    throw new ChuteError(
      'unauthorized',
      'A text/plain request to this route is authorised by the upload token in its body ("token"), and it has none.',
    );
  }
  const t = await tokens.verify<UploadToken>(token, 'upload', nowSeconds);
  if (t.u !== uploadId) throw new ChuteError('invalid_token', 'The upload token is for another upload.');
  return { token: t, body };
}
