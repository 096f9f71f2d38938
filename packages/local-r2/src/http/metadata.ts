import { headersNotSigned } from '../auth.js';
import { S3Error } from '../errors.js';
import type { ObjectRow } from '../store/db.js';
import { httpDate } from '../xml.js';
import { type Ctx, etagQuote, h } from './context.js';

export const SYSTEM_HEADERS = [
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;
export const MAX_METADATA_BYTES = 8192;
const STORAGE_CLASSES = new Set(['STANDARD', 'STANDARD_IA']);

/** Stored headers a presigned write may carry only when its signer chose them. */
const MUST_BE_SIGNED_WHEN_PRESIGNED = SYSTEM_HEADERS.filter((n) => n !== 'content-type');

/**
 * Deliberately stricter than R2/S3, which store these unsigned: a presigned URL is handed to
 * someone else, so whatever it stores must be what the signer chose (x-amz-* are refused in auth).
 */
function refuseUnsignedStoredHeaders(ctx: Ctx) {
  if (!ctx.auth.presigned) return;
  const names = MUST_BE_SIGNED_WHEN_PRESIGNED.filter((n) => ctx.headers[n] !== undefined && !ctx.auth.signedHeaders.has(n));
  if (names.length) throw headersNotSigned(names);
}

/** System and user (x-amz-meta-*) metadata of a PutObject / CreateMultipartUpload request. */
export function requestMetadata(ctx: Ctx): { headers: Record<string, string>; meta: Record<string, string> } {
  refuseUnsignedStoredHeaders(ctx);
  const headers: Record<string, string> = {};
  for (const name of SYSTEM_HEADERS) {
    let v = h(ctx, name);
    if (name === 'content-encoding' && v !== undefined) {
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (v === '') v = undefined;
    }
    if (v !== undefined) headers[name] = v;
  }
  const sc = h(ctx, 'x-amz-storage-class');
  if (sc !== undefined) {
    // R2's answer to any other class (observed for an empty one), in R2's words.
    if (!STORAGE_CLASSES.has(sc)) throw new S3Error('NotImplemented', `Header 'x-amz-storage-class' with value '${sc}' not implemented`);
    headers['x-amz-storage-class'] = sc;
  }
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    meta[short] = v;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(v);
  }
  if (bytes > MAX_METADATA_BYTES) throw new S3Error('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size of ${MAX_METADATA_BYTES} bytes.`);
  return { headers, meta };
}

const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** Response headers of Head/GetObject (checksums only when x-amz-checksum-mode: ENABLED). */
export function objectHeaders(ctx: Ctx, obj: ObjectRow): Record<string, string | number> {
  const out: Record<string, string | number> = {
    etag: etagQuote(obj.etag),
    'last-modified': httpDate(obj.modified),
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
  };
  // S3 names the storage class only when it is not STANDARD; x-local-r2-* headers are private.
  for (const [k, v] of Object.entries(obj.headers))
    if (!k.startsWith('x-local-r2-') && (k !== 'x-amz-storage-class' || v !== 'STANDARD')) out[k] = v;
  for (const [k, v] of Object.entries(obj.meta)) out[`x-amz-meta-${k}`] = v;
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const v = ctx.query[param];
    if (typeof v === 'string') out[header] = v;
  }
  const mode = h(ctx, 'x-amz-checksum-mode') ?? (typeof ctx.query['x-amz-checksum-mode'] === 'string' ? ctx.query['x-amz-checksum-mode'] : undefined);
  if (mode === 'ENABLED' && obj.checksumAlg && obj.checksum) {
    out[`x-amz-checksum-${obj.checksumAlg.toLowerCase()}`] = obj.checksum;
    if (obj.checksumType) out['x-amz-checksum-type'] = obj.checksumType;
  }
  return out;
}

/** Magic-number sniffing: R2 infers Content-Type for a PutObject that sent none. */
export function sniffContentType(head: Buffer): string {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'application/pdf';
  if (starts(0x52, 0x49, 0x46, 0x46) && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'application/zip';
  if (starts(0x1f, 0x8b)) return 'application/gzip';
  if (head.subarray(4, 8).toString('latin1') === 'ftyp') return 'video/mp4';
  return 'application/octet-stream';
}
