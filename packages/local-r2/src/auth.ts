import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ALGORITHM_IDENTIFIER, createScope, getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import { S3Error } from './errors.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** SHA-256 / HMAC-SHA256 for @smithy/signature-v4, backed by node:crypto. */
class NodeSha256 implements Checksum {
  private h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh() {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as Uint8Array);
    return createHmac('sha256', key);
  }
  update(chunk: Uint8Array) {
    this.h.update(chunk);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {
    this.h = this.fresh();
  }
}

/** Recomputes signatures with the library's canonicalisation instead of re-implementing SigV4. */
class Verifier extends SignatureV4 {
  constructor(creds: Credentials) {
    super({ credentials: creds, region: 'auto', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  }
  async requestSignature(req: HttpRequest, signed: Set<string>, payloadHash: string, date: Date, region: string) {
    const canonicalHeaders = getCanonicalHeaders(req, undefined, signed);
    if (Object.keys(canonicalHeaders).sort().join(';') !== [...signed].sort().join(';')) return null;
    const { longDate, shortDate } = this.formatDate(date);
    const scope = createScope(shortDate, region, 's3');
    const canonical = this.createCanonicalRequest(req, canonicalHeaders, payloadHash);
    const sts = await this.createStringToSign(longDate, scope, canonical, ALGORITHM_IDENTIFIER);
    return this.sign(sts, { signingDate: date, signingRegion: region });
  }
  scope(date: Date, region: string) {
    return createScope(this.formatDate(date).shortDate, region, 's3');
  }
}

export type PayloadMode =
  | 'unsigned'
  | 'sha256'
  | 'streaming-signed'
  | 'streaming-signed-trailer'
  | 'streaming-unsigned-trailer';

/** What a verified request tells the body reader. */
export interface AuthResult {
  presigned: boolean;
  payload: PayloadMode;
  /** Lower-case names the signature covers (X-Amz-SignedHeaders or the header's SignedHeaders). */
  signedHeaders: ReadonlySet<string>;
  /** Expected hex sha256 of the body when payload is 'sha256'. */
  sha256?: string;
  /** For aws-chunked bodies with signed chunks: signs each chunk's string-to-sign. */
  chunkSigner?: ChunkSigner;
}

export interface ChunkSigner {
  seed: string;
  longDate: string;
  scope: string;
  sign(stringToSign: string): Promise<string>;
}

export interface SignedRequest {
  method: string;
  rawPath: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const REGION_ALIASES = new Set(['auto', 'us-east-1', '']);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** S3's canonical URI: each path segment percent-encoded once with RFC 3986 unreserved chars kept. */
export function canonicalPath(rawPath: string): string {
  return rawPath
    .split('/')
    .map((seg) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(seg);
      } catch {
        throw new S3Error('InvalidArgument', 'The request path is not valid percent-encoded UTF-8.');
      }
      return encodeURIComponent(decoded).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    })
    .join('/');
}

function parseAmzDate(s: string | undefined): Date | null {
  const m = s && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? null : d;
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** S3's refusal of headers outside the signature, naming them in <HeadersNotSigned>. */
export function headersNotSigned(names: string[]): S3Error {
  return new S3Error('AccessDenied', 'There were headers present in the request which were not signed', undefined, {
    HeadersNotSigned: names.join(', '),
  });
}

/**
 * S3 obeys only what was signed: an x-amz-* header outside SignedHeaders (say x-amz-copy-source
 * added to a presigned PUT, which would turn it into a copy) is refused, never ignored.
 */
function refuseUnsignedAmz(headers: IncomingHttpHeaders, signed: ReadonlySet<string>) {
  const names = Object.keys(headers)
    .filter((n) => n.startsWith('x-amz-') && !signed.has(n))
    .sort();
  if (names.length) throw headersNotSigned(names);
}

export class Authenticator {
  private readonly verifiers = new Map<string, Verifier>();
  constructor(
    credentials: Credentials[],
    private readonly now: () => number,
  ) {
    for (const c of credentials) this.verifiers.set(c.accessKeyId, new Verifier(c));
  }

  async verify(r: SignedRequest): Promise<AuthResult> {
    const auth = r.headers.authorization;
    if (auth !== undefined) return this.verifyHeader(r, auth);
    if (first(r.query['X-Amz-Signature']) !== undefined || first(r.query['X-Amz-Credential']) !== undefined)
      return this.verifyQuery(r);
    throw new S3Error('AccessDenied', 'Access Denied: the request is not signed.');
  }

  private credential(credential: string | undefined, date: Date) {
    const parts = (credential ?? '').split('/');
    if (parts.length !== 5) throw new S3Error('AuthorizationHeaderMalformed', 'The Credential is malformed.');
    const [akid, day, region, service, terminator] = parts as [string, string, string, string, string];
    if (service !== 's3' || terminator !== 'aws4_request')
      throw new S3Error('AuthorizationHeaderMalformed', `The credential scope must end in s3/aws4_request.`);
    if (!REGION_ALIASES.has(region))
      throw new S3Error('AuthorizationHeaderMalformed', `The region '${region}' is wrong; expecting 'auto'.`);
    const verifier = this.verifiers.get(akid);
    if (!verifier) throw new S3Error('InvalidAccessKeyId');
    if (day !== date.toISOString().slice(0, 10).replace(/-/g, ''))
      throw new S3Error('AuthorizationHeaderMalformed', 'The credential date does not match the request date.');
    return { verifier, region };
  }

  private pick(headers: IncomingHttpHeaders, signed: Set<string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of signed) {
      const v = headers[name];
      if (v !== undefined) out[name] = Array.isArray(v) ? v.join(',') : v;
    }
    return out;
  }

  private httpRequest(r: SignedRequest, headers: Record<string, string>, query: Record<string, string | string[]>) {
    return { method: r.method, protocol: 'http:', hostname: '', path: canonicalPath(r.rawPath), query, headers } as HttpRequest;
  }

  private async verifyHeader(r: SignedRequest, auth: string): Promise<AuthResult> {
    if (auth.startsWith('AWS '))
      throw new S3Error('Unauthorized', 'SigV2 authorization is not supported. Please use SigV4 instead.');
    const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]{64})$/.exec(auth.trim());
    if (!m) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    const date = parseAmzDate(first(r.headers['x-amz-date']));
    if (!date) throw new S3Error('AccessDenied', 'AWS authentication requires a valid x-amz-date header.');
    const { verifier, region } = this.credential(m[1], date);
    if (Math.abs(this.now() - date.getTime()) > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
    const signed = new Set((m[2] as string).split(';'));
    const contentSha = first(r.headers['x-amz-content-sha256']);
    if (contentSha === undefined)
      throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    const payload = payloadMode(contentSha);
    const req = this.httpRequest(r, this.pick(r.headers, signed), r.query);
    const expected = await verifier.requestSignature(req, signed, contentSha, date, region);
    if (expected === null || !safeEqualHex(expected, m[3] as string)) throw new S3Error('SignatureDoesNotMatch');
    refuseUnsignedAmz(r.headers, signed);
    const result: AuthResult = { presigned: false, payload, signedHeaders: signed };
    if (payload === 'sha256') result.sha256 = contentSha.toLowerCase();
    if (payload === 'streaming-signed' || payload === 'streaming-signed-trailer') {
      const longDate = first(r.headers['x-amz-date']) as string;
      result.chunkSigner = {
        seed: expected,
        longDate,
        scope: verifier.scope(date, region),
        sign: (sts) => verifier.sign(sts, { signingDate: date, signingRegion: region }),
      };
    }
    return result;
  }

  private async verifyQuery(r: SignedRequest): Promise<AuthResult> {
    const q = (k: string) => first(r.query[k]);
    const algorithm = q('X-Amz-Algorithm');
    const signature = q('X-Amz-Signature');
    const signedList = q('X-Amz-SignedHeaders');
    const expiresRaw = q('X-Amz-Expires');
    if (!algorithm || !signature || !signedList || !expiresRaw || !q('X-Amz-Credential') || !q('X-Amz-Date'))
      throw new S3Error('AuthorizationQueryParametersError');
    if (algorithm !== 'AWS4-HMAC-SHA256')
      throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".');
    const date = parseAmzDate(q('X-Amz-Date'));
    if (!date) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format.');
    if (!/^\d+$/.test(expiresRaw)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number.');
    const expires = Number(expiresRaw);
    if (expires > 604800)
      throw new S3Error(
        'InvalidArgument',
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      );
    const { verifier, region } = this.credential(q('X-Amz-Credential'), date);
    const now = this.now();
    if (now > date.getTime() + expires * 1000) throw new S3Error('ExpiredRequest');
    if (date.getTime() - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
    const signed = new Set(signedList.split(';'));
    const contentSha = q('X-Amz-Content-Sha256') ?? q('x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
    const req = this.httpRequest(r, this.pick(r.headers, signed), r.query);
    const expected = await verifier.requestSignature(req, signed, contentSha, date, region);
    if (expected === null || !safeEqualHex(expected, signature)) throw new S3Error('SignatureDoesNotMatch');
    refuseUnsignedAmz(r.headers, signed);
    const payload = payloadMode(contentSha);
    if (payload !== 'unsigned' && payload !== 'sha256')
      throw new S3Error('InvalidRequest', 'Streaming payloads are not supported with presigned URLs.');
    const result: AuthResult = { presigned: true, payload, signedHeaders: signed };
    if (payload === 'sha256') result.sha256 = contentSha.toLowerCase();
    return result;
  }
}

function payloadMode(v: string): PayloadMode {
  switch (v) {
    case 'UNSIGNED-PAYLOAD':
      return 'unsigned';
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return 'streaming-signed';
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return 'streaming-signed-trailer';
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return 'streaming-unsigned-trailer';
    default:
      if (/^[0-9a-fA-F]{64}$/.test(v)) return 'sha256';
      if (v.startsWith('STREAMING-')) throw new S3Error('NotImplemented', `x-amz-content-sha256 '${v}' is not supported.`);
      throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest.');
  }
}

export { EMPTY_SHA256 };
