import {
  AbortMultipartUploadCommand,
  type ChecksumAlgorithm as S3ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  CHECKSUM_HEADERS,
  CHECKSUM_TYPE,
  type ChecksumAlgorithm,
  type SignedRequest,
  type StoredPart,
  type UploadedObject,
} from '@chute/protocol';
import type { S3Options } from './config.js';
import { TemplatePresigner } from './fast-presign.js';
import { SinglePutPresigner } from './put-presign.js';
import { contentDisposition, mapS3Error, s3 } from './s3-errors.js';
import { ChuteError } from './errors.js';

/** Build an S3 client configured for R2: region `auto`, checksums only when an operation requires them. */
export function createS3Client(options: S3Options): S3Client {
  if (options.client) return options.client;
  return new S3Client({
    region: options.region ?? 'auto',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    // Newer SDKs otherwise bake an empty-body CRC32 into presigned URLs (see DESIGN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

/** Headers the bucket must see exactly as signed. Content-Length is signed but set by the browser from the body. */
const SIGNABLE = new Set(['content-type', 'content-length', 'content-md5']);
const UNHOISTABLE = new Set(Object.values(CHECKSUM_HEADERS));

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  value: string;
}

const CHECKSUM_FIELD: Record<ChecksumAlgorithm, 'ChecksumCRC64NVME' | 'ChecksumCRC32' | 'ChecksumCRC32C' | 'ChecksumSHA1' | 'ChecksumSHA256'> = {
  CRC64NVME: 'ChecksumCRC64NVME',
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
};

function checksumFields(c: Checksum | undefined): Record<string, string> {
  return c ? { [CHECKSUM_FIELD[c.algorithm]]: c.value } : {};
}

function checksumHeaders(md5: string | undefined, c: Checksum | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  if (md5) h['content-md5'] = md5;
  if (c) h[CHECKSUM_HEADERS[c.algorithm]] = c.value;
  return h;
}

interface PartToSign {
  partNumber: number;
  size?: number;
  md5?: string;
  checksum?: Checksum;
}

/** What the browser sends (checksums) and what is signed (those plus the exact length). */
function partHeaders(p: PartToSign): { headers: Record<string, string>; signed: Record<string, string> } {
  const headers = checksumHeaders(p.md5, p.checksum);
  return { headers, signed: p.size === undefined ? headers : { ...headers, 'content-length': String(p.size) } };
}

function sameKeys(names: string[], o: Record<string, string>): boolean {
  const keys = Object.keys(o);
  return keys.length === names.length && keys.every((k, i) => k === names[i]);
}

const trimEtag = (e: string | undefined) => (e ?? '').replace(/^"|"$/g, '');

/** Bucket operations of the signer: presigning for the browser, control calls server-side. */
export class Store {
  readonly client: S3Client;
  readonly bucket: string;

  readonly endpoint: string;
  readonly pathStyle: boolean;

  constructor(options: S3Options) {
    this.client = createS3Client(options);
    this.bucket = options.bucket;
    this.endpoint = options.endpoint ?? `https://s3.${options.region ?? 'us-east-1'}.amazonaws.com`;
    this.pathStyle = options.forcePathStyle ?? false;
  }

  async #presign(
    command: PutObjectCommand | UploadPartCommand | GetObjectCommand,
    method: 'PUT' | 'GET',
    headers: Record<string, string>,
    expiresIn: number,
    nowMs: number,
  ): Promise<SignedRequest> {
    // The union of commands confuses the presigner's generics; each is a plain S3 command.
    const url = await getSignedUrl(this.client, command as never, {
      expiresIn,
      signingDate: new Date(nowMs),
      signableHeaders: SIGNABLE,
      unhoistableHeaders: UNHOISTABLE,
    });
    return { method, url, headers, expiresAt: new Date(nowMs + expiresIn * 1000).toISOString() };
  }

  /** Single-PUT URLs re-signed per header shape, checked against the SDK's (see put-presign.ts). */
  readonly #puts = new SinglePutPresigner(() => this.client.config.credentials());

  async presignPut(
    p: { key: string; contentType: string; size?: number; md5?: string; checksum?: Checksum; metadata?: Record<string, string> },
    expiresIn: number,
    nowMs: number,
  ): Promise<SignedRequest> {
    const command = (key: string) =>
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: p.contentType,
        ...(p.size !== undefined ? { ContentLength: p.size } : {}),
        ...(p.md5 ? { ContentMD5: p.md5 } : {}),
        ...checksumFields(p.checksum),
        ...(p.metadata ? { Metadata: p.metadata } : {}),
      });
    const headers = { 'content-type': p.contentType, ...checksumHeaders(p.md5, p.checksum) };
    // Metadata travels as hoisted x-amz-meta-* query values: those URLs stay the SDK's own.
    if (p.metadata && Object.keys(p.metadata).length > 0) return this.#presign(command(p.key), 'PUT', headers, expiresIn, nowMs);
    const signed = { ...headers, ...(p.size !== undefined ? { 'content-length': String(p.size) } : {}) };
    const url = await this.#puts.url(p.key, signed, expiresIn, nowMs, async (key) => (await this.#presign(command(key), 'PUT', headers, expiresIn, nowMs)).url);
    return { method: 'PUT', url, headers, expiresAt: new Date(nowMs + expiresIn * 1000).toISOString() };
  }

  presignPart(
    p: { key: string; uploadId: string; partNumber: number; size?: number; md5?: string; checksum?: Checksum },
    expiresIn: number,
    nowMs: number,
  ): Promise<SignedRequest> {
    const cmd = new UploadPartCommand({
      Bucket: this.bucket,
      Key: p.key,
      UploadId: p.uploadId,
      PartNumber: p.partNumber,
      ...(p.size !== undefined ? { ContentLength: p.size } : {}),
      ...(p.md5 ? { ContentMD5: p.md5 } : {}),
      ...checksumFields(p.checksum),
    });
    // The SDK adds `content-type: application/octet-stream` to parts; browsers send blob slices untyped,
    // so it must not be signed.
    cmd.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { headers?: Record<string, string> };
        if (req.headers) delete req.headers['content-type'];
        return next(args);
      },
      { step: 'build', name: 'chuteDropPartContentType', priority: 'low' },
    );
    return this.#presign(cmd, 'PUT', checksumHeaders(p.md5, p.checksum), expiresIn, nowMs);
  }

  #origin: Promise<string> | undefined;

  /** The origin browsers send this bucket's presigned requests to, as the SDK builds the URLs (path or virtual-host style). */
  origin(nowMs: number): Promise<string> {
    this.#origin ??= this.presignGet({ key: 'origin' }, 60, nowMs).then(
      (r) => new URL(r.url).origin,
      (err: unknown) => {
        this.#origin = undefined;
        throw err;
      },
    );
    return this.#origin;
  }

  /** URL templates per upload (key + uploadId), so signing a part skips the SDK's middleware. */
  readonly #templates = new Map<string, TemplatePresigner>();

  async #template(key: string, uploadId: string, nowMs: number): Promise<TemplatePresigner> {
    const id = `${uploadId}\n${key}`;
    let t = this.#templates.get(id);
    if (!t) {
      // Any part of this upload gives the URL shape; the SDK decides host, path encoding and query.
      const shape = await this.presignPart({ key, uploadId, partNumber: 1 }, 60, nowMs);
      t = new TemplatePresigner(shape.url);
      if (this.#templates.size >= 1000) this.#templates.delete(this.#templates.keys().next().value as string);
    } else {
      this.#templates.delete(id); // re-insert: most recently used last
    }
    this.#templates.set(id, t);
    return t;
  }

  /**
   * Presign parts of one upload, each with its exact Content-Length (when known) and checksum as
   * signed headers. URLs are the AWS presigner's, re-signed from a cached template (10,000 parts
   * in one batch take ~0.1 s).
   */
  async presignParts(
    key: string,
    uploadId: string,
    parts: PartToSign[],
    expiresIn: number,
    nowMs: number,
  ): Promise<SignedRequest[]> {
    const template = await this.#template(key, uploadId, nowMs);
    const signer = await template.at(nowMs, expiresIn, await this.client.config.credentials());
    const expiresAt = new Date(nowMs + expiresIn * 1000).toISOString();
    return parts.map((p) => {
      const { headers, signed } = partHeaders(p);
      const url = signer.url('PUT', { partNumber: String(p.partNumber) }, signed);
      return { method: 'PUT' as const, url, headers, expiresAt };
    });
  }

  /**
   * The same batch as one URL template plus a signature per part (the `format: 'template'`
   * answer), or undefined when the parts do not share one set of signed headers (their URLs then
   * differ in more than part number and signature).
   */
  async presignPartsTemplate(key: string, uploadId: string, parts: PartToSign[], expiresIn: number, nowMs: number) {
    const all = parts.map(partHeaders);
    const names = Object.keys(all[0]?.signed ?? {});
    if (all.some((h) => !sameKeys(names, h.signed))) return undefined;
    const template = await this.#template(key, uploadId, nowMs);
    const signer = await template.at(nowMs, expiresIn, await this.client.config.credentials());
    return {
      template: { method: 'PUT' as const, url: signer.template(['partNumber'], names), expiresAt: new Date(nowMs + expiresIn * 1000).toISOString() },
      signatures: parts.map((p, i) => signer.signature('PUT', { partNumber: String(p.partNumber) }, (all[i] as { signed: Record<string, string> }).signed)),
      headers: all.map((h) => h.headers),
    };
  }

  presignGet(p: { key: string; filename?: string }, expiresIn: number, nowMs: number): Promise<SignedRequest> {
    const cmd = new GetObjectCommand({
      Bucket: this.bucket,
      Key: p.key,
      ...(p.filename ? { ResponseContentDisposition: contentDisposition(p.filename) } : {}),
    });
    return this.#presign(cmd, 'GET', {}, expiresIn, nowMs);
  }

  /** Presigned URL for an arbitrary stock-Uppy operation that goes browser → bucket. */
  presignCommand(cmd: PutObjectCommand | UploadPartCommand, headers: Record<string, string>, expiresIn: number, nowMs: number) {
    return this.#presign(cmd, 'PUT', headers, expiresIn, nowMs);
  }

  async createMultipart(p: {
    key: string;
    contentType: string;
    metadata?: Record<string, string>;
    algorithm: ChecksumAlgorithm | 'NONE';
  }): Promise<string> {
    const out = await s3(
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: p.key,
          ContentType: p.contentType,
          ...(p.metadata ? { Metadata: p.metadata } : {}),
          ...(p.algorithm !== 'NONE'
            ? { ChecksumAlgorithm: p.algorithm as S3ChecksumAlgorithm, ChecksumType: CHECKSUM_TYPE[p.algorithm] }
            : {}),
        }),
      ),
    );
    if (!out.UploadId) throw new ChuteError('storage_error', 'The bucket returned no upload id.');
    return out.UploadId;
  }

  /** Every part of an upload, following ListParts pagination. */
  async listAllParts(key: string, uploadId: string, algorithm: ChecksumAlgorithm | 'NONE' = 'NONE'): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const out = await s3(
        this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MaxParts: 1000,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        ),
      );
      for (const p of out.Parts ?? []) {
        if (p.PartNumber === undefined) continue;
        const checksum = algorithm === 'NONE' ? undefined : p[CHECKSUM_FIELD[algorithm]];
        parts.push({
          partNumber: p.PartNumber,
          etag: trimEtag(p.ETag),
          size: p.Size ?? 0,
          ...(p.LastModified ? { lastModified: p.LastModified.toISOString() } : {}),
          ...(checksum ? { checksum } : {}),
        });
      }
      if (!out.IsTruncated || !out.NextPartNumberMarker) break;
      marker = String(out.NextPartNumberMarker);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(p: {
    key: string;
    uploadId: string;
    parts: { partNumber: number; etag: string; checksum?: string }[];
    algorithm: ChecksumAlgorithm | 'NONE';
    fullChecksum?: string;
  }): Promise<{ etag: string; checksum?: string }> {
    const field = p.algorithm === 'NONE' ? undefined : CHECKSUM_FIELD[p.algorithm];
    const parts: CompletedPart[] = p.parts.map((x) => ({
      PartNumber: x.partNumber,
      ETag: `"${x.etag}"`,
      // Part checksums only for COMPOSITE uploads; a FULL_OBJECT upload is checked by its whole-object value.
      ...(field && x.checksum && p.algorithm !== 'NONE' && CHECKSUM_TYPE[p.algorithm] === 'COMPOSITE' ? { [field]: x.checksum } : {}),
    }));
    const full = p.algorithm === 'CRC64NVME' && p.fullChecksum;
    const out = await s3(
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: p.key,
          UploadId: p.uploadId,
          MultipartUpload: { Parts: parts },
          ...(full ? { ChecksumCRC64NVME: p.fullChecksum, ChecksumType: 'FULL_OBJECT' } : {}),
        }),
      ),
    );
    const checksum = field ? out[field] : undefined;
    return { etag: trimEtag(out.ETag), ...(checksum ? { checksum } : {}) };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      // Aborting twice is not an error (R2 answers NoSuchUpload the second time).
      if (err instanceof S3ServiceException && err.name === 'NoSuchUpload') return;
      throw mapS3Error(err);
    }
  }

  /** One page of objects under `prefix`, after the key `startAfter`; `last` is set when more follow. */
  async listObjects(prefix: string, limit: number, startAfter?: string): Promise<{ objects: UploadedObject[]; last?: string }> {
    const out = await s3(
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: limit,
          ...(startAfter ? { StartAfter: startAfter } : {}),
        }),
      ),
    );
    const objects = (out.Contents ?? []).flatMap((o) =>
      o.Key
        ? [
            {
              key: o.Key,
              name: o.Key.slice(o.Key.lastIndexOf('/') + 1),
              size: o.Size ?? 0,
              etag: trimEtag(o.ETag),
              lastModified: (o.LastModified ?? new Date(0)).toISOString(),
            },
          ]
        : [],
    );
    const last = out.IsTruncated ? objects.at(-1)?.key : undefined;
    return { objects, ...(last ? { last } : {}) };
  }

  async head(key: string): Promise<{ size: number; etag: string; contentType?: string }> {
    const out = await s3(this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
    return { size: out.ContentLength ?? 0, etag: trimEtag(out.ETag), ...(out.ContentType ? { contentType: out.ContentType } : {}) };
  }

  /**
   * Size, ETag and (with checksum mode) the stored checksum of `algorithm`, for verification after
   * complete. A store without additional checksums simply returns none.
   */
  async headChecked(key: string, algorithm: ChecksumAlgorithm | 'NONE'): Promise<{ size: number; etag: string; checksum?: string; checksumType?: string; contentType?: string }> {
    const out = await s3(this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' })));
    const checksum = algorithm === 'NONE' ? undefined : out[CHECKSUM_FIELD[algorithm]];
    return {
      size: out.ContentLength ?? 0,
      etag: trimEtag(out.ETag),
      ...(out.ContentType ? { contentType: out.ContentType } : {}),
      ...(checksum ? { checksum } : {}),
      ...(out.ChecksumType ? { checksumType: out.ChecksumType } : {}),
    };
  }

  /** Removes an object (a missing one is fine: S3 answers 204 either way). */
  async deleteObject(key: string): Promise<void> {
    await s3(this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** The object's URL without any signature (informational, e.g. Uppy's `location`). */
  objectUrl(key: string): string {
    const ep = this.endpoint.replace(/\/$/, '');
    const path = key.split('/').map(encodeURIComponent).join('/');
    return this.pathStyle ? `${ep}/${this.bucket}/${path}` : ep.replace('://', `://${this.bucket}.`) + `/${path}`;
  }

  /** Is the bucket reachable with these credentials? */
  async ping(): Promise<void> {
    await s3(this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }
}
