// For apps that keep stock `@uppy/aws-s3` 6: options that route its `signRequest` through the
// Chute signer (POST /api/uppy/sign) under the same policy, and add a worker-computed
// Content-MD5 (and the exact length) per part, so the bucket rejects corrupted parts. Stock
// Uppy never shows `signRequest` the bytes, so the helper finds the file by upload id / key and
// re-slices it with Uppy's own chunk maths.
import { MiB, ROUTES, type UppySignRequest, uppyChunkSize, uppySignResponseSchema } from '@chute/protocol';
import type { Body, Meta, Uppy, UppyFile } from '@uppy/core';
import { hexToBase64 } from './encoding.js';
import { UploaderError } from './errors.js';
import { type PartHasher, WorkerHashPool } from './hash-pool.js';

/** What `@uppy/aws-s3` 6 passes to `signRequest` (its types are not exported). */
export interface PresignableRequest {
  method: 'PUT' | 'POST' | 'GET' | 'DELETE';
  key: string;
  uploadId?: string;
  partNumber?: number;
  contentType?: string;
  expiresIn?: number;
}

export interface PresignedResponse {
  url: string;
  key?: string;
  headers?: Record<string, string>;
}

export interface ChuteSignRequestOptions<M extends Meta, B extends Body> {
  uppy: Uppy<M, B>;
  /** Base URL of the Chute signer; `''` for the page's origin. */
  endpoint: string;
  getAuthToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Fixed part size (a pure function of nothing: resume must re-chunk identically). Default 16 MiB. */
  partSize?: number;
  /** Files above this go multipart (default: 100 MiB, as stock Uppy). */
  multipartThreshold?: number;
  /** Add Content-MD5 to parts and single PUTs (default true). */
  contentMd5?: boolean;
  hasher?: PartHasher;
  fetch?: typeof fetch;
}

/**
 * Options to spread into `uppy.use(AwsS3, { ...chuteAwsS3Options({ uppy, endpoint }) })`:
 * `signRequest`, `getChunkSize`, `shouldUseMultipart` and `generateObjectKey`.
 */
export function chuteAwsS3Options<M extends Meta, B extends Body>(options: ChuteSignRequestOptions<M, B>) {
  const partSize = options.partSize ?? 16 * MiB;
  const threshold = options.multipartThreshold ?? 100 * MiB;
  const wantMd5 = options.contentMd5 ?? true;
  let hasher = options.hasher;
  const keyToFile = new Map<string, string>();
  const endpoint = options.endpoint.replace(/\/+$/, '');

  const md5Of = async (blob: Blob, start: number, end: number): Promise<string> => {
    hasher ??= new WorkerHashPool();
    const d = await hasher.hashPart(blob, start, end, { md5: true, crc64nvme: false, sha256: false });
    return hexToBase64(d.md5 as string);
  };

  const dataOf = (file: UppyFile<M, B> | undefined): Blob | undefined =>
    file && !file.isRemote && file.data instanceof Blob ? file.data : undefined;

  const signRequest = async (req: PresignableRequest): Promise<PresignedResponse> => {
    const body: UppySignRequest = { ...req };
    // The signer signs only URLs of a known length: every PUT carries its exact byte count and a
    // multipart create its file size and part size (the layout every part is then held to).
    if (req.method === 'PUT' && req.uploadId && req.partNumber) {
      const file = options.uppy
        .getFiles()
        .find((f) => (f as { s3Multipart?: { uploadId: string } }).s3Multipart?.uploadId === req.uploadId);
      const data = dataOf(file);
      if (data) {
        const chunk = uppyChunkSize(data.size, partSize);
        const start = (req.partNumber - 1) * chunk;
        const end = Math.min(start + chunk, data.size);
        body.contentLength = end - start;
        if (wantMd5) body.contentMd5 = await md5Of(data, start, end);
      }
    } else if (!req.uploadId && (req.method === 'PUT' || req.method === 'POST')) {
      const fileId = keyToFile.get(req.key);
      const data = dataOf(fileId ? options.uppy.getFile(fileId) : undefined);
      if (data && req.method === 'PUT') {
        body.contentLength = data.size;
        if (wantMd5) body.contentMd5 = await md5Of(data, 0, data.size);
      } else if (data) {
        body.size = data.size;
        body.partSize = partSize;
      }
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    const token = await options.getAuthToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(`${endpoint}${ROUTES.uppySign}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new UploaderError('network_error', 'The upload service could not be reached.', { retryable: true, cause: err });
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const message = (json as { error?: { message?: string } } | undefined)?.error?.message;
      throw new UploaderError('bad_response', message ?? `The upload service answered HTTP ${res.status}.`, {
        status: res.status,
      });
    }
    const parsed = uppySignResponseSchema.safeParse(json);
    if (!parsed.success) throw new UploaderError('bad_response', 'The upload service answered signRequest with an unexpected body.');
    const { url, key, headers: signedHeaders } = parsed.data;
    return { url, ...(key ? { key } : {}), ...(signedHeaders ? { headers: signedHeaders } : {}) };
  };

  return {
    signRequest,
    getChunkSize: () => partSize,
    shouldUseMultipart: (file: UppyFile<M, B>) => (file.size ?? 0) > threshold,
    generateObjectKey: (file: UppyFile<M, B>) => {
      const key = `${crypto.randomUUID()}-${file.name}`;
      keyToFile.set(key, file.id);
      return key;
    },
  };
}
