import { z } from 'zod';
import { base64DigestSchema, checksumAlgorithmSchema, md5Schema } from './checksums.js';
import { chuteErrorSchema } from './errors.js';
import { MAX_OBJECT_SIZE, MAX_PARTS } from './parts.js';
import { objectKeySchema, textSchema } from './text.js';

/** Header carrying the upload token on GET/DELETE calls (POST calls may put it in the body). */
export const UPLOAD_TOKEN_HEADER = 'chute-upload-token';

/**
 * The Content-Type of the preflight-free ("token") form of sign-parts and complete: the same JSON
 * body sent as `text/plain`, with no `Authorization` or custom header, so a browser treats it as
 * a CORS-simple request and sends no OPTIONS preflight (one round trip saved per call). The upload
 * token in the body is then the only credential: the caller is the token's user. Signers that
 * predate it answer 401 `unauthorized` (no credentials); clients then fall back to the JSON form.
 */
export const TOKEN_FORM_CONTENT_TYPE = 'text/plain;charset=UTF-8';

/** Routes of the JSON API, relative to the signer's base URL. `:uploadId` is URL-encoded. */
export const ROUTES = {
  /** POST create; GET list my uploads. */
  uploads: '/api/uploads',
  /** POST sign a batch of parts; GET list the parts the bucket has. */
  parts: (uploadId: string) => `/api/uploads/${encodeURIComponent(uploadId)}/parts`,
  /** POST complete. */
  complete: (uploadId: string) => `/api/uploads/${encodeURIComponent(uploadId)}/complete`,
  /** DELETE abort. */
  upload: (uploadId: string) => `/api/uploads/${encodeURIComponent(uploadId)}`,
  /** POST create many single-PUT uploads in one call (see `createBatchRequestSchema`). */
  uploadsBatch: '/api/uploads/batch',
  /** POST a presigned download URL. */
  downloads: '/api/downloads',
  /** POST stock `@uppy/aws-s3` 6 `signRequest`. */
  uppySign: '/api/uppy/sign',
  /** POST remove an object whose verification failed (a discard or upload token, the object's ETag). */
  discard: '/api/uploads/discard',
} as const;

const sizeSchema = z.number().int().nonnegative().max(MAX_OBJECT_SIZE);
const partNumberSchema = z.number().int().min(1).max(MAX_PARTS);
const isoDate = z.string();

/** User metadata stored as `x-amz-meta-*`: short ASCII keys and values. */
export const metadataSchema = z
  .record(
    z.string().regex(/^[a-z0-9-]{1,64}$/, 'metadata keys are 1-64 chars of a-z, 0-9 and -'),
    // Printable ASCII: values travel as HTTP headers.
    z.string().max(1024).regex(/^[\x20-\x7e]*$/, 'metadata values are printable ASCII'),
  )
  .refine((m) => Object.keys(m).length <= 32, { message: 'at most 32 metadata entries' });

/** A presigned request for the browser to send as-is: method, URL and exactly these headers. */
export const signedRequestSchema = z.object({
  method: z.enum(['PUT', 'GET', 'HEAD']),
  url: z.string(),
  /** Headers that were signed: send each one with exactly this value (the bucket checks them). */
  headers: z.record(z.string(), z.string()),
  /** When the URL stops working (ISO 8601). */
  expiresAt: isoDate,
});
export type SignedRequest = z.infer<typeof signedRequestSchema>;

// ---- create ---------------------------------------------------------------------------------

/** POST /api/uploads */
export const createUploadRequestSchema = z.object({
  /** File name; only its last path segment is kept, made safe for a key. */
  name: z.string().min(1).max(1024),
  /** MIME type, e.g. `image/png`; empty means `application/octet-stream`. */
  type: z.string().max(255).default(''),
  size: sizeSchema,
  metadata: metadataSchema.optional(),
  /**
   * The additional S3 checksum of this upload. Multipart: CRC64NVME (default) is a FULL_OBJECT
   * checksum sent at complete; the others are COMPOSITE and need a value per part.
   * `'NONE'` turns additional checksums off (Content-MD5 per part still applies).
   */
  checksumAlgorithm: z.union([checksumAlgorithmSchema, z.literal('NONE')]).optional(),
  /** Single PUT only: Content-MD5 of the whole file (base64), signed into the URL. */
  md5: md5Schema.optional(),
  /** Single PUT only: whole-file value of `checksumAlgorithm` (base64), signed into the URL. */
  checksum: base64DigestSchema.optional(),
  /** Force (`true`) or forbid (`false`) multipart; by default files above the threshold go multipart. */
  multipart: z.boolean().optional(),
  /** Preferred part size in bytes; the signer rounds it into R2's limits (see `choosePartSize`). */
  partSize: z.number().int().positive().optional(),
})
  // Unknown fields are refused, not ignored: a client must never believe the signer signed
  // something it asked for (a copy source, extra headers) when it did not.
  .strict();
export type CreateUploadRequest = z.input<typeof createUploadRequestSchema>;
export type CreateUploadRequestParsed = z.output<typeof createUploadRequestSchema>;

export const singleUploadResponseSchema = z.object({
  type: z.literal('single'),
  key: z.string(),
  /** The PUT to send the whole file with. */
  request: signedRequestSchema,
  /** Lets the client remove the object (POST /api/uploads/discard) when its own check of the PUT's answer fails. */
  discardToken: z.string().optional(),
  /**
   * The store's origin multiplexes requests over one connection (HTTP/2 or HTTP/3, as R2 serves):
   * a client may keep many more requests in flight than HTTP/1.1's 6 connections per host allow.
   * Absent when the signer does not know (older signers, an unprobed store).
   */
  storeMultiplexed: z.boolean().optional(),
});
export type SingleUploadResponse = z.infer<typeof singleUploadResponseSchema>;

export const multipartUploadResponseSchema = z.object({
  type: z.literal('multipart'),
  key: z.string(),
  uploadId: z.string(),
  partSize: z.number().int().positive(),
  partCount: z.number().int().positive(),
  /** Additional checksum algorithm of the upload, or `'NONE'`. */
  checksumAlgorithm: z.union([checksumAlgorithmSchema, z.literal('NONE')]),
  checksumType: z.enum(['FULL_OBJECT', 'COMPOSITE']).optional(),
  /** Whether every part must carry its Content-MD5. */
  md5Required: z.boolean(),
  /** Opaque HMAC token: pass it to sign, list, complete and abort. */
  token: z.string(),
  /** When the token expires (ISO 8601); after that the upload can only be aborted by the bucket's lifecycle rule. */
  tokenExpiresAt: isoDate,
  /**
   * The origin the part PUTs will go to (`https://<account>.r2.cloudflarestorage.com`): a client
   * may open its connection there while the first parts are signed. Absent from older signers.
   */
  storeOrigin: z.string().optional(),
  /**
   * The store's origin multiplexes requests over one connection (HTTP/2 or HTTP/3, as R2 serves):
   * a client may keep many more requests in flight than HTTP/1.1's 6 connections per host allow.
   * Absent when the signer does not know (older signers, an unprobed store).
   */
  storeMultiplexed: z.boolean().optional(),
});
export type MultipartUploadResponse = z.infer<typeof multipartUploadResponseSchema>;

export const createUploadResponseSchema = z.discriminatedUnion('type', [
  singleUploadResponseSchema,
  multipartUploadResponseSchema,
]);
export type CreateUploadResponse = z.infer<typeof createUploadResponseSchema>;

// ---- create many (single PUTs) ----------------------------------------------------------------

/** Most files one batch create may carry. */
export const MAX_CREATES_PER_BATCH = 50;

/**
 * POST /api/uploads/batch: many small files in one call. Each file is exactly what
 * POST /api/uploads takes, but must be a single PUT (`multipart` absent or `false`, size below the
 * signer's multipart threshold); multipart uploads are created one at a time. A browser pays a
 * request per file otherwise (its CPU, and the signer's): with hundreds of small files that, not
 * the link, is what limits files per second. Signers that predate it answer 404 `not_found`.
 */
export const createBatchRequestSchema = z
  .object({ files: z.array(createUploadRequestSchema).min(1).max(MAX_CREATES_PER_BATCH) })
  .strict();
export type CreateBatchRequest = z.input<typeof createBatchRequestSchema>;

/** One file's outcome, in the request's order: its single-PUT answer, or why it was refused. */
export const createBatchResultSchema = z.union([
  z.object({ upload: singleUploadResponseSchema }).strict(),
  chuteErrorSchema.strict(),
]);
export type CreateBatchResult = z.infer<typeof createBatchResultSchema>;

/** 200 whenever the batch itself was acceptable; each file then succeeds or fails on its own. */
export const createBatchResponseSchema = z.object({ results: z.array(createBatchResultSchema) });
export type CreateBatchResponse = z.infer<typeof createBatchResponseSchema>;

// ---- sign parts -----------------------------------------------------------------------------

export const partChecksumsSchema = z.object({
  partNumber: partNumberSchema,
  /** Content-MD5 of the part (base64); required unless the signer allows unchecked parts. */
  md5: md5Schema.optional(),
  /** The part's value of the upload's checksum algorithm (base64); required for COMPOSITE algorithms. */
  checksum: base64DigestSchema.optional(),
});
export type PartChecksums = z.infer<typeof partChecksumsSchema>;

/** Most part URLs one sign request may ask for (the engine asks for 20 at a time). */
export const MAX_PARTS_PER_SIGN_REQUEST = 1000;

/** POST /api/uploads/:uploadId/parts — up to 1,000 distinct parts of a file in one call. */
export const signPartsRequestSchema = z.object({
  token: z.string().min(1).max(4096),
  parts: z
    .array(partChecksumsSchema)
    .min(1)
    .max(MAX_PARTS_PER_SIGN_REQUEST)
    // One URL per part number: copies of a part would only multiply URLs (and the signing work).
    .refine((parts) => new Set(parts.map((p) => p.partNumber)).size === parts.length, 'each part number may appear once'),
  /**
   * `'urls'` (default): a full URL per part. `'template'`: one URL template for the batch and a
   * signature per part, about 5× smaller (see `expandSignedParts`). A signer that predates the
   * field ignores it and answers with URLs, so clients must accept both.
   */
  format: z.enum(['urls', 'template']).optional(),
});
export type SignPartsRequest = z.infer<typeof signPartsRequestSchema>;

export const signedPartSchema = signedRequestSchema.extend({
  partNumber: partNumberSchema,
  /** Exact byte length the bucket will accept (signed as Content-Length). */
  size: z.number().int().nonnegative(),
});
export type SignedPart = z.infer<typeof signedPartSchema>;

export const signPartsResponseSchema = z.object({ parts: z.array(signedPartSchema) });
export type SignPartsResponse = z.infer<typeof signPartsResponseSchema>;

/** Placeholders of a part URL template; each occurs once. */
export const PART_URL_PLACEHOLDERS = { partNumber: '{partNumber}', signature: '{signature}' } as const;

/** The `format: 'template'` answer: what every part of the batch shares, then what each one owns. */
export const signPartsTemplateResponseSchema = z.object({
  template: z.object({
    method: z.literal('PUT'),
    /** A part's URL is this with `{partNumber}` and `{signature}` replaced by its own values. */
    url: z.string().includes(PART_URL_PLACEHOLDERS.partNumber).includes(PART_URL_PLACEHOLDERS.signature),
    expiresAt: isoDate,
  }),
  parts: z.array(
    z.object({
      partNumber: partNumberSchema,
      size: z.number().int().nonnegative(),
      /** Hex SigV4 signature of this part's URL. */
      signature: z.string().regex(/^[0-9a-f]{64}$/),
      headers: z.record(z.string(), z.string()),
    }),
  ),
});
export type SignPartsTemplateResponse = z.infer<typeof signPartsTemplateResponseSchema>;

/** Either answer of POST /parts (an answer with a `template` must be a valid template answer). */
export const signPartsAnyResponseSchema = z.union([signPartsTemplateResponseSchema, signPartsResponseSchema.extend({ template: z.never().optional() })]);

/** Turns a `format: 'template'` answer into the full one: a URL per part. */
export function expandSignedParts(res: SignPartsTemplateResponse | SignPartsResponse): SignPartsResponse {
  if (!('template' in res)) return res;
  const { method, url, expiresAt } = res.template;
  // Split once (either placeholder may come first): each URL is then a few concatenations.
  const p = url.indexOf(PART_URL_PLACEHOLDERS.partNumber);
  const q = url.indexOf(PART_URL_PLACEHOLDERS.signature);
  if (p < 0 || q < 0) throw new TypeError('a part URL template needs {partNumber} and {signature}');
  const [first, second] = p < q ? [PART_URL_PLACEHOLDERS.partNumber, PART_URL_PLACEHOLDERS.signature] : [PART_URL_PLACEHOLDERS.signature, PART_URL_PLACEHOLDERS.partNumber];
  const i = Math.min(p, q);
  const j = Math.max(p, q);
  const head = url.slice(0, i);
  const middle = url.slice(i + first.length, j);
  const tail = url.slice(j + second.length);
  return {
    parts: res.parts.map((part) => {
      const [x, y] = p < q ? [String(part.partNumber), part.signature] : [part.signature, String(part.partNumber)];
      return { partNumber: part.partNumber, size: part.size, method, url: head + x + middle + y + tail, headers: part.headers, expiresAt };
    }),
  };
}

// ---- list parts -----------------------------------------------------------------------------

export const storedPartSchema = z.object({
  partNumber: partNumberSchema,
  /** ETag as the bucket reports it, without quotes (the hex MD5 of the part). */
  etag: z.string(),
  size: z.number().int().nonnegative(),
  lastModified: isoDate.optional(),
  /** The part's value of the upload's checksum algorithm, when the bucket has one. */
  checksum: z.string().optional(),
});
export type StoredPart = z.infer<typeof storedPartSchema>;

/** GET /api/uploads/:uploadId/parts (token in the `chute-upload-token` header). All pages. */
export const listPartsResponseSchema = z.object({
  key: z.string(),
  uploadId: z.string(),
  parts: z.array(storedPartSchema),
});
export type ListPartsResponse = z.infer<typeof listPartsResponseSchema>;

// ---- complete / abort -----------------------------------------------------------------------

/** POST /api/uploads/:uploadId/complete */
export const completeUploadRequestSchema = z.object({
  token: z.string().min(1).max(4096),
  /** The ETags the client saw; if given, each must match what the bucket holds. */
  parts: z.array(z.object({ partNumber: partNumberSchema, etag: z.string().max(128) })).max(MAX_PARTS).optional(),
  /** Full-object CRC64NVME of the whole file (base64), checked by the bucket at complete. */
  checksum: base64DigestSchema.optional(),
});
export type CompleteUploadRequest = z.infer<typeof completeUploadRequestSchema>;

/**
 * How strongly the stored object is known to equal the file, strongest first:
 * - `full-object-checksum`: the store returned the whole file's checksum (CRC64NVME; for a single
 *   PUT the echoed checksum or its MD5 ETag under an enforced Content-MD5) and it equals the file's;
 * - `part-checksums-and-etag`: every part was sent with a checksum the store enforces (Content-MD5,
 *   or the upload's COMPOSITE checksum), the multipart ETag is the MD5 of the part MD5s plus `-N`,
 *   and the size from HeadObject is the file's;
 * - `etag-and-size`: the ETag the store computed (the MD5 of the file, or of the part MD5s) and the
 *   size match, but the parts were not checked by the store on the way in;
 * - `not-verifiable`: the store returned nothing to compare (a warning, not a failure).
 * An absent checksum is never a mismatch; a present one that differs fails the upload.
 */
export const VERIFICATION_LEVELS = ['full-object-checksum', 'part-checksums-and-etag', 'etag-and-size', 'not-verifiable'] as const;
export type VerificationLevel = (typeof VERIFICATION_LEVELS)[number];
export const verificationSchema = z.object({
  level: z.enum(VERIFICATION_LEVELS),
  /** What was compared, one sentence each (e.g. "size 10485760 from HeadObject"). */
  checked: z.array(z.string()),
  /** Set when the level is below `part-checksums-and-etag`: what could not be checked, and why. */
  warning: z.string().optional(),
});
export type Verification = z.infer<typeof verificationSchema>;

export const completeUploadResponseSchema = z.object({
  key: z.string(),
  /** Multipart ETag without quotes: `md5(part md5s)-N`. */
  etag: z.string(),
  size: z.number().int().nonnegative(),
  checksum: z
    .object({
      algorithm: checksumAlgorithmSchema,
      type: z.enum(['FULL_OBJECT', 'COMPOSITE']),
      value: z.string(),
    })
    .optional(),
  /** What the signer checked after complete (always sent; optional so older signers parse). */
  verification: verificationSchema.optional(),
});
export type CompleteUploadResponse = z.infer<typeof completeUploadResponseSchema>;

/** DELETE /api/uploads/:uploadId (token in the `chute-upload-token` header) → 200 `{ aborted: true }`. */
export const abortUploadResponseSchema = z.object({ aborted: z.literal(true), key: z.string(), uploadId: z.string() });
export type AbortUploadResponse = z.infer<typeof abortUploadResponseSchema>;

/**
 * POST /api/uploads/discard — removes the object of one upload whose check failed on the client.
 * `token` is the single PUT's `discardToken` or the multipart upload token (while valid); the
 * object goes only if its ETag is still `etag`, so a later, good object at the key is kept.
 */
export const discardRequestSchema = z
  .object({ token: z.string().min(1).max(4096), etag: z.string().min(1).max(128) })
  .strict();
export type DiscardRequest = z.infer<typeof discardRequestSchema>;
export const discardResponseSchema = z.object({ key: z.string(), discarded: z.boolean() });
export type DiscardResponse = z.infer<typeof discardResponseSchema>;

// ---- downloads, my uploads ------------------------------------------------------------------

/** POST /api/downloads */
export const downloadRequestSchema = z.object({
  key: objectKeySchema,
  /** Serve with `Content-Disposition: attachment` under this file name. */
  filename: textSchema.max(255).optional(),
});
export type DownloadRequest = z.infer<typeof downloadRequestSchema>;
export const downloadResponseSchema = z.object({ key: z.string(), request: signedRequestSchema });
export type DownloadResponse = z.infer<typeof downloadResponseSchema>;

/**
 * GET /api/uploads?cursor=&limit= — the caller's stored objects, in key order. Query values are
 * strings: `cursor` is the opaque `nextCursor` of the previous page (base64url), `limit` plain digits.
 */
export const listUploadsQuerySchema = z.object({
  cursor: z
    .string()
    .max(2048)
    .regex(/^[A-Za-z0-9_-]*$/, 'the nextCursor of a previous page')
    .optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'a whole number from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1, 'a whole number from 1 to 1000').max(1000, 'a whole number from 1 to 1000'))
    .optional(),
});
export const uploadedObjectSchema = z.object({
  key: z.string(),
  /** The file name part of the key. */
  name: z.string(),
  size: z.number().int().nonnegative(),
  etag: z.string(),
  lastModified: isoDate,
});
export type UploadedObject = z.infer<typeof uploadedObjectSchema>;
export const listUploadsResponseSchema = z.object({
  uploads: z.array(uploadedObjectSchema),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: z.string().optional(),
});
export type ListUploadsResponse = z.infer<typeof listUploadsResponseSchema>;
