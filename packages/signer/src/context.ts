import type { ChecksumAlgorithm } from '@chute/protocol';
import type { Identity } from './auth.js';
import type { Limits, SignerOptions } from './config.js';
import type { Quotas } from './limits/quotas.js';
import type { Store } from './s3.js';
import type { TokenPayload, TokenSigner } from './token.js';

/** What every handler gets: the request, route params, the caller and the signer's parts. */
export interface HandlerContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  identity: Identity;
  /** The caller's key prefix, ending in `/`. */
  prefix: string;
  nowMs: number;
  /** Public base URL of the signer (no trailing slash). */
  baseUrl: string;
  store: Store;
  tokens: TokenSigner;
  limits: Limits;
  options: SignerOptions;
  /** Charges the rate budget for the URLs this request is about to sign (throws `rate_limited`). */
  charge?(urls: number): Promise<void>;
  /** Per-user quotas (open uploads, bytes per day). */
  quotas?: Quotas;
  /** Charges the upload's own URL budget (throws `quota_exceeded`); see limits/upload-urls.ts. */
  chargeUpload?(uploadId: string, partCount: number, urls: number): Promise<void>;
  /** Records an unexpected failure the response itself does not carry (one file of a batch), for `onResponse`. */
  logError?(err: unknown): void;
  /** The JSON body when it was already read (the token form reads it to find the caller); see `bodyOf`. */
  body?: unknown;
}

export type Handler = (ctx: HandlerContext) => Promise<Response>;

/** The state of a multipart upload, carried by the client in its HMAC upload token. */
export interface UploadToken extends TokenPayload {
  typ: 'upload';
  /** key */
  k: string;
  /** uploadId */
  u: string;
  /** file size */
  s: number;
  /** part size */
  p: number;
  /** additional checksum algorithm */
  a: ChecksumAlgorithm | 'NONE';
  /** Content-MD5 required per part */
  m: boolean;
  /** user id */
  sub: string;
}

/** Lets the owner of a single PUT remove its object when the client's check of the PUT fails. */
export interface DiscardToken extends TokenPayload {
  typ: 'discard';
  /** key */
  k: string;
  /** user id */
  sub: string;
}
