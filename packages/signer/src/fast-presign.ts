import { createHash, createHmac } from 'node:crypto';
import { getSigningKey } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types';

/** node:crypto SHA-256 / HMAC-SHA256 in the shape @smithy/signature-v4 expects. */
class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = NodeSha256.#make(secret);
  }
  static #make(secret?: SourceData) {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = NodeSha256.#make(this.#secret);
  }
}

function bytes(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

const AUTH_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
]);

/** SigV4 URI encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `20261125T100000Z` and `20261125` for a time in ms. */
function amzDates(ms: number): { longDate: string; shortDate: string } {
  const longDate = new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { longDate, shortDate: longDate.slice(0, 8) };
}

/**
 * Presigns requests that differ from a template only in some query values, headers, date and
 * expiry — the parts of one multipart upload. The template is a URL the AWS presigner made, so
 * host, path encoding, bucket style, query and region are exactly the SDK's; the signing key
 * comes from @smithy/signature-v4. Only the per-URL SigV4 steps run here, synchronously:
 * canonical request → string to sign → HMAC — ~10 µs a URL instead of ~350 µs through the
 * presigner's middleware. A test checks each URL equals `getSignedUrl`'s, signature included.
 */
export class TemplatePresigner {
  readonly #origin: string;
  readonly #path: string;
  readonly #host: string;
  readonly #region: string;
  /** Encoded `key=value` pairs of the template's own query (x-id, uploadId…), without auth params. */
  readonly #base: Map<string, string>;
  /** Signing keys by `accessKeyId/shortDate` (one a day per key). */
  readonly #keys = new Map<string, Buffer>();

  constructor(templateUrl: string) {
    const url = new URL(templateUrl);
    const scope = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
    const region = scope[2];
    if (scope.length !== 5 || !region || scope[3] !== 's3' || scope[4] !== 'aws4_request') {
      throw new TypeError('the template is not a SigV4 S3 presigned URL');
    }
    this.#origin = `${url.protocol}//${url.host}`;
    this.#path = url.pathname;
    this.#host = url.host;
    this.#region = region;
    this.#base = new Map();
    for (const [k, v] of url.searchParams) if (!AUTH_PARAMS.has(k)) this.#base.set(k, `${escape(k)}=${escape(v)}`);
  }

  /**
   * A synchronous signer for one instant: URLs dated `nowMs`, valid `expiresIn` seconds.
   * `sign(method, query, headers)` signs every header given (plus host).
   */
  async at(
    nowMs: number,
    expiresIn: number,
    credentials: AwsCredentialIdentity,
  ): Promise<(method: string, query: Record<string, string>, headers: Record<string, string>) => string> {
    const { longDate, shortDate } = amzDates(nowMs);
    const id = `${credentials.accessKeyId}/${shortDate}`;
    let key = this.#keys.get(id);
    if (!key) {
      key = Buffer.from(await getSigningKey(NodeSha256, credentials, shortDate, this.#region, 's3'));
      this.#keys.clear();
      this.#keys.set(id, key);
    }
    const signingKey = key;
    const scope = `${shortDate}/${this.#region}/s3/aws4_request`;
    const auth: Record<string, string> = {
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
      'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
      'X-Amz-Date': longDate,
      'X-Amz-Expires': String(expiresIn),
      ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
    };
    const base = new Map(this.#base);
    for (const [k, v] of Object.entries(auth)) base.set(k, `${escape(k)}=${escape(v)}`);
    // The sorted key order is the same for every call with the same query keys: compute it once.
    const orders = new Map<string, string[]>();
    return (method, query, headers) => {
      const h: Record<string, string> = { host: this.#host };
      for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
      const names = Object.keys(h).sort();
      const signedHeaders = names.join(';');
      const own: Record<string, string> = { ...query, 'X-Amz-SignedHeaders': signedHeaders };
      const ownKeys = Object.keys(own);
      const sig = ownKeys.join('\n');
      let order = orders.get(sig);
      if (!order) {
        order = [...new Set([...base.keys(), ...ownKeys])].sort();
        orders.set(sig, order);
      }
      const canonicalQuery = order
        .map((k) => {
          const v = own[k];
          return v === undefined ? base.get(k) : `${escape(k)}=${escape(v)}`;
        })
        .join('&');
      const canonicalHeaders = names.map((n) => `${n}:${h[n]}\n`).join('');
      const canonicalRequest = `${method}\n${this.#path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\nUNSIGNED-PAYLOAD`;
      const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
      const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
      return `${this.#origin}${this.#path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
    };
  }
}
