import type { S3Client } from '@aws-sdk/client-s3';
import { type ChecksumAlgorithm, DEFAULT_PART_SIZE, GiB, MAX_PARTS, MiB } from '@chute/protocol';
import type { Authenticator, Identity } from './auth.js';
import type { UploadHooks } from './hooks.js';
import type { LimitStore } from './limits/store.js';

export interface S3Options {
  bucket: string;
  /** S3 endpoint, e.g. `https://<account>.r2.cloudflarestorage.com` or `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** `auto` for R2 (default). */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`host/bucket/key`); needed for local endpoints. */
  forcePathStyle?: boolean;
  /** Use this client instead of building one (it must use `WHEN_REQUIRED` checksum modes). */
  client?: S3Client;
  /**
   * Browsers reach the endpoint over HTTP/2 or HTTP/3 (one connection, many requests): told to
   * clients at create (`storeMultiplexed`) so they keep more small files in flight than HTTP/1.1's
   * 6 connections per host allow. Default (`knownMultiplexed`): true for R2 endpoints
   * (`https://*.r2.cloudflarestorage.com` serves both), false for `http://` ones, unknown for
   * other `https://` ones. A function is asked at every create (chute-server's probes the
   * endpoint's TLS ALPN in the background and answers once it knows).
   */
  multiplexed?: boolean | (() => boolean | undefined);
}

/**
 * What the endpoint's URL alone tells: R2's S3 endpoints are served by Cloudflare's edge, which
 * speaks HTTP/2 and HTTP/3 (true); a plain-HTTP origin is HTTP/1.1 to a browser, which speaks
 * HTTP/2 only over TLS (false); any other `https://` endpoint may or may not (undefined).
 */
export function knownMultiplexed(endpoint: string | undefined): boolean | undefined {
  if (!endpoint) return undefined;
  try {
    const u = new URL(endpoint);
    if (u.protocol === 'http:') return false;
    return u.protocol === 'https:' && u.hostname.endsWith('.r2.cloudflarestorage.com') ? true : undefined;
  } catch {
    return undefined;
  }
}

export interface Limits {
  /** Largest file accepted, bytes. Default 5 GiB. */
  maxFileSize: number;
  /** Allowed content types; `*` wildcards (`image/*`, `*`). Default: any. */
  allowedContentTypes: string[];
  /** Most parts per upload (≤ 10,000). */
  maxParts: number;
  /** Files at least this large go multipart (unless the client says otherwise). Default 16 MiB. */
  multipartThreshold: number;
  /** Part size used when the client has no preference. Default 16 MiB. */
  defaultPartSize: number;
  /** Upload token lifetime, seconds. Default 24 h. */
  tokenTtlSeconds: number;
  /** Presigned URL lifetime, seconds (≤ 7 days). Default 15 min. */
  urlTtlSeconds: number;
  /** Largest JSON request body, bytes. Default 1 MiB (a batch of 10,000 parts with checksums fits). */
  maxBodyBytes: number;
  /** Require Content-MD5 on every part and single PUT. Default true. */
  requireMd5: boolean;
  /** Require Content-MD5 on stock-Uppy part and PUT signing (stock Uppy cannot send it; Chute's helper can). Default false. */
  uppyRequireMd5: boolean;
  /** Open multipart uploads per user; a forgotten one frees its slot when its token expires. 0: no limit. Default 100. */
  maxOpenUploads: number;
  /** Bytes a user may declare at create per day (fixed 24-h window). 0: no limit. Default 50 GiB. */
  maxBytesPerDay: number;
  /** Signed URLs per part an upload may get over its token's lifetime (at least 50 in all). 0: no limit. Default 10. */
  urlsPerPart: number;
}

export interface RateLimitOptions {
  /** Points per user per window (per IP: twice as many). A request costs 1, each URL it signs 1 more. */
  capacity: number;
  /** Average points per second; the window is `capacity / refillPerSecond` seconds. */
  refillPerSecond: number;
}

/** The hooks (`onUploadCreate`, `onUploadComplete`, `onUploadAbort`) are in hooks.ts. */
export interface SignerOptions extends UploadHooks {
  s3: S3Options;
  /** HMAC secrets for upload tokens, each ≥ 32 bytes. The first signs, all verify (rotation). */
  tokenSecrets: string[];
  authenticate: Authenticator;
  limits?: Partial<Limits>;
  /** Default additional checksum of multipart uploads; default CRC64NVME (full object). */
  checksumAlgorithm?: ChecksumAlgorithm | 'NONE';
  /**
   * The additional checksums the store verifies (what `chute-server doctor` or its start-up probe
   * found). A create that asks for another one gets `checksumAlgorithm` instead, and says so in
   * its answer, so the widget never asks a store for what it cannot do. Default: any.
   */
  storeChecksums?: (ChecksumAlgorithm | 'NONE')[];
  /** Key prefix of a user; must end with `/`. Default `uploads/<encoded userId>/`. */
  userPrefix?: (identity: Identity) => string;
  /** Origins allowed to call the API from a browser (exact, or `*`). Default: none (same origin only). */
  corsOrigins?: string[];
  /**
   * Accept the preflight-free form of sign-parts and complete (a `text/plain` JSON body authorised
   * by its upload token alone, no `Authorization`): one round trip less per call from a browser
   * on another origin. Default true. `false` makes every call carry the user's credentials (for an
   * `authenticate` that must see each request, e.g. to cut a banned user off mid-upload); clients
   * then fall back to the JSON form by themselves.
   */
  tokenForm?: boolean;
  /** Rate limits per user and per IP, in points (a request 1, each URL it signs 1); `false` turns them off. Default 600 per 10 s. */
  rateLimit?: RateLimitOptions | false;
  /**
   * Where rate limits and quotas count. Default: this process's memory (each instance counts on
   * its own); `redisLimitStore` from `@chute/signer/redis` shares them across instances.
   */
  limitStore?: LimitStore;
  /** Public base URL of the signer, for links to itself (stock Uppy mode). Default: from the request. */
  publicUrl?: string;
  /** Host names answered (exact, `*.example.com`, `*`; port ignored); others get 421 host_not_allowed. Default: any. */
  allowedHosts?: string[];
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Called once per request after the response is made (metrics, logs). */
  onResponse?: (info: ResponseInfo) => void;
}

export interface ResponseInfo {
  method: string;
  /** Route pattern, e.g. `/api/uploads/:uploadId/parts`. */
  route: string;
  status: number;
  /** Error code when the response is an error. */
  code?: string;
  durationMs: number;
  userId?: string;
  /** The error behind a 5xx, for logging. */
  error?: unknown;
}

export const DEFAULT_LIMITS: Limits = {
  maxFileSize: 5 * GiB,
  allowedContentTypes: ['*'],
  maxParts: MAX_PARTS,
  multipartThreshold: 16 * MiB,
  defaultPartSize: DEFAULT_PART_SIZE,
  tokenTtlSeconds: 24 * 3600,
  urlTtlSeconds: 15 * 60,
  maxBodyBytes: 1 * MiB,
  requireMd5: true,
  uppyRequireMd5: false,
  maxOpenUploads: 100,
  maxBytesPerDay: 50 * GiB,
  urlsPerPart: 10,
};

export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  if (limits.urlTtlSeconds < 1 || limits.urlTtlSeconds > 604_800) throw new TypeError('urlTtlSeconds must be 1..604800');
  if (limits.maxParts < 1 || limits.maxParts > MAX_PARTS) throw new TypeError('maxParts must be 1..10000');
  if (limits.tokenTtlSeconds < 60) throw new TypeError('tokenTtlSeconds must be at least 60');
  if (!(limits.maxOpenUploads >= 0) || !(limits.maxBytesPerDay >= 0)) throw new TypeError('maxOpenUploads and maxBytesPerDay must be ≥ 0 (0: no limit)');
  if (!Number.isInteger(limits.urlsPerPart) || limits.urlsPerPart < 0 || limits.urlsPerPart > 1000) throw new TypeError('urlsPerPart must be an integer 0..1000 (0: no limit)');
  return limits;
}
