import { z } from 'zod';
import { base64DigestSchema, md5Schema } from './checksums.js';
import { MAX_PARTS, MAX_SINGLE_PUT_SIZE } from './parts.js';
import { uploadIdSchema } from './text.js';

/**
 * The `signRequest` contract of stock `@uppy/aws-s3` 6 (`PresignableRequest` → `PresignedResponse`),
 * served by POST /api/uppy/sign. Uppy never sends bytes or sizes; Chute's helper may add
 * `contentMd5`/`checksumSha256`/`contentLength` for a part so the bucket can enforce them.
 */
export const uppySignRequestSchema = z.object({
  method: z.enum(['PUT', 'POST', 'GET', 'DELETE']),
  /** A file name (PutObject, CreateMultipartUpload: made safe by the signer) or an existing key (checked by the signer). */
  key: z.string().min(1).max(1024),
  uploadId: uploadIdSchema.optional(),
  partNumber: z.number().int().min(1).max(MAX_PARTS).optional(),
  contentType: z.string().max(255).optional(),
  expiresIn: z.number().int().positive().optional(),
  // Chute extensions (ignored by Uppy, sent by @chute/uploader's signRequest helper):
  contentMd5: md5Schema.optional(),
  checksumSha256: base64DigestSchema.optional(),
  contentLength: z.number().int().nonnegative().max(MAX_SINGLE_PUT_SIZE).optional(),
});
export type UppySignRequest = z.infer<typeof uppySignRequestSchema>;

export const uppySignResponseSchema = z.object({
  url: z.string(),
  /** Only for PutObject and CreateMultipartUpload: the key the signer chose. */
  key: z.string().optional(),
  /** Send these with the request (they are signed). */
  headers: z.record(z.string(), z.string()).optional(),
});
export type UppySignResponse = z.infer<typeof uppySignResponseSchema>;
