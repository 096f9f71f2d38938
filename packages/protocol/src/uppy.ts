import { z } from 'zod';
import { base64DigestSchema, md5Schema } from './checksums.js';
import { MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MAX_SINGLE_PUT_SIZE } from './parts.js';

/** Longest stock-Uppy upload id: the store's id wrapped in the signer's HMAC token. */
export const UPPY_UPLOAD_ID_MAX = 2048;

/**
 * The `signRequest` contract of stock `@uppy/aws-s3` 6 (`PresignableRequest` → `PresignedResponse`),
 * served by POST /api/uppy/sign. Uppy itself never sends sizes, so the app's `signRequest` adds
 * them (Chute's `chuteAwsS3Options` does): `contentLength` on every PUT, `size` (and the
 * `getChunkSize` value as `partSize`) when creating a multipart upload. The signer refuses
 * to sign a URL of unknown length.
 */
export const uppySignRequestSchema = z
  .object({
    method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
    /** A file name (PutObject, CreateMultipartUpload: made safe by the signer) or an existing key (checked by the signer). */
    key: z.string().min(1).max(1024),
    /** The upload id the signer's create answered (wrapped and signed: `chute1.…`). */
    uploadId: z.string().min(1).max(UPPY_UPLOAD_ID_MAX).regex(/^[\x21-\x7e]+$/, 'must be an upload id the signer issued').optional(),
    partNumber: z.number().int().min(1).max(MAX_PARTS).optional(),
    contentType: z.string().max(255).optional(),
    expiresIn: z.number().int().positive().optional(),
    // Chute extensions (ignored by Uppy, sent by @chute/uploader's signRequest helper):
    contentMd5: md5Schema.optional(),
    checksumSha256: base64DigestSchema.optional(),
    /** Exact bytes of this PUT (a single PutObject or one part): required for every PUT. */
    contentLength: z.number().int().nonnegative().max(MAX_SINGLE_PUT_SIZE).optional(),
    /** Multipart create: the file's size in bytes (required). */
    size: z.number().int().nonnegative().max(MAX_OBJECT_SIZE).optional(),
    /** Multipart create: what `getChunkSize` returns (Uppy's default when absent); see `uppyChunkSize`. */
    partSize: z.number().int().positive().max(MAX_PART_SIZE).optional(),
  })
  // Unknown fields (extra headers, a copy source) are refused, never silently dropped.
  .strict();
export type UppySignRequest = z.infer<typeof uppySignRequestSchema>;

export const uppySignResponseSchema = z.object({
  url: z.string(),
  /** Only for PutObject and CreateMultipartUpload: the key the signer chose. */
  key: z.string().optional(),
  /** Send these with the request (they are signed). */
  headers: z.record(z.string(), z.string()).optional(),
});
export type UppySignResponse = z.infer<typeof uppySignResponseSchema>;
