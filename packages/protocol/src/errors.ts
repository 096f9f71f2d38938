import { z } from 'zod';

/**
 * Every error the signer API returns, with its HTTP status. One table, used by the server to
 * answer and by clients to decide what to do (retry, re-sign, give up).
 */
export const ERROR_STATUS = {
  /** The body is not valid JSON, or the request is malformed. */
  bad_request: 400,
  /** The body parsed but a field is missing, of the wrong type or out of range. */
  validation_failed: 400,
  /** A part number outside 1..partCount of this upload. */
  invalid_part_number: 400,
  /** A checksum value is not valid base64 of the right length. */
  invalid_checksum: 400,
  /** Policy requires a checksum for this request and none was given. */
  checksum_required: 400,
  /** The file needs more parts than allowed (10,000, or the configured maximum). */
  too_many_parts: 400,
  /** The request must say how many bytes it will send (a file size or a part's Content-Length). */
  content_length_required: 400,
  /** A part's length differs from the one the upload's part layout gives that part number. */
  invalid_part_size: 400,
  /** An upload id the signer did not issue (or altered): stock-Uppy ids are wrapped and signed. */
  invalid_upload_id: 400,
  /** The object key would be longer than the 1,024 UTF-8 bytes S3 and R2 allow. */
  key_too_long: 400,
  /** No credentials, or credentials that are not valid. */
  unauthorized: 401,
  /** Authenticated, but not allowed to touch this key or upload. */
  forbidden: 403,
  /** The upload token is malformed, forged, or for another upload / user. */
  invalid_token: 403,
  /** The upload token expired: create a new upload (or resume with a fresh token). */
  token_expired: 403,
  /** The app's `onUploadCreate` hook refused this upload (the message is the app's). */
  upload_refused: 403,
  /** The browser origin is not in the signer's CORS allow-list. */
  origin_not_allowed: 403,
  /** The Host header is not in the signer's allow-list (DNS rebinding, or ALLOWED_HOSTS unset). */
  host_not_allowed: 421,
  /** No such route, object or multipart upload. */
  not_found: 404,
  /** The route exists but not with this method. */
  method_not_allowed: 405,
  /** The request (headers or body) did not arrive in time. */
  request_timeout: 408,
  /** Complete found parts missing, of the wrong size, or with other ETags than the client's. */
  upload_incomplete: 409,
  /** A part's stored checksum or ETag differs from what the client expected. */
  checksum_mismatch: 409,
  /**
   * After complete, the stored object differed from the file (size, ETag or a checksum the store
   * returned); the signer removed it, so nothing half-right stays listed. Upload the file again.
   */
  verification_failed: 409,
  /** The request body is larger than the signer accepts. */
  payload_too_large: 413,
  /** The declared file size is above the configured maximum. */
  file_too_large: 413,
  /** The content type is not in the allow-list. */
  content_type_not_allowed: 415,
  /**
   * The request body's Content-Type is not one this route reads: JSON routes want
   * `application/json`; only sign-parts and complete also take the preflight-free `text/plain` form.
   */
  unsupported_media_type: 415,
  /** The request headers are larger than the HTTP server accepts. */
  headers_too_large: 431,
  /** Too many requests from this user or IP; retry after `details.retryAfterSeconds`. */
  rate_limited: 429,
  /** A per-user quota (open multipart uploads, bytes per day) is used up; the message says when it frees. */
  quota_exceeded: 429,
  /** Unexpected failure inside the signer. */
  internal_error: 500,
  /** The bucket answered with an error the signer could not map. */
  storage_error: 502,
  /** The bucket could not be reached. */
  storage_unavailable: 503,
  /** The identity provider (JWKS URL) could not be reached. */
  auth_unavailable: 503,
  /** The shared limits store (Redis) could not be reached. */
  limits_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
export const errorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

/** The body of every error response: `{ error: { code, message, details? } }`. */
export const chuteErrorSchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ChuteErrorBody = z.infer<typeof chuteErrorSchema>;

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** True for errors a client may retry unchanged (after a delay). */
export function isRetryable(code: ErrorCode): boolean {
  return code === 'rate_limited' || code === 'storage_unavailable' || code === 'auth_unavailable' || code === 'limits_unavailable' || code === 'storage_error' || code === 'internal_error';
}

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>): ChuteErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
