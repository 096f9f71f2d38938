import { createHash, createHmac, createSecretKey, hash } from 'node:crypto';
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

/** Signs URLs of one template at one instant (see `TemplatePresigner.at`). */
export interface InstantSigner {
  /** `path`: another object's already-encoded path on the template's host (default: the template's). */
  url(method: string, query: Record<string, string>, headers: Record<string, string>, path?: string): string;
  signature(method: string, query: Record<string, string>, headers: Record<string, string>, path?: string): string;
  /**
   * The URL every `url(method, query, headers)` call with these query keys and header names
   * produces, with `{key}` where each query value goes and `{signature}` for the signature.
   * Values must need no %-escaping (part numbers) for the substitution to give the same URL.
   */
  template(queryKeys: string[], headerNames: string[]): string;
}

interface Layout {
  names: string[];
  signedHeaders: string;
  query: ({ fixed: string } | { own: string; prefix: string })[];
  lowerOf: Map<string, string>;
}

/** One-shot SHA-256 (`crypto.hash`, Node 20.12+) where there is one: about twice as fast on short input. */
const sha256Hex: (s: string) => string =
  typeof hash === 'function' ? (s) => hash('sha256', s, 'hex') : (s) => createHash('sha256').update(s).digest('hex');

/** SigV4 header value: trimmed, inner runs of white space folded (most values have none). */
const canonicalValue = (v: string) => (/\s/.test(v) ? v.trim().replace(/\s+/g, ' ') : v);

/** SigV4 URI encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** An object key as S3 URL paths carry it: each `/`-separated segment escaped (the SDK's greedy label). */
export const encodeKeyPath = (key: string) => key.split('/').map(escape).join('/');

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
   * `url(method, query, headers)` signs every header given (plus host); `signature(…)` is the
   * same signature alone, and `template(query)` the URL of that shape with each of `query`'s values
   * and the signature left as `{name}` / `{signature}` placeholders.
   */
  async at(nowMs: number, expiresIn: number, credentials: AwsCredentialIdentity): Promise<InstantSigner> {
    const { longDate, shortDate } = amzDates(nowMs);
    const id = `${credentials.accessKeyId}/${shortDate}`;
    let key = this.#keys.get(id);
    if (!key) {
      key = Buffer.from(await getSigningKey(NodeSha256, credentials, shortDate, this.#region, 's3'));
      this.#keys.clear();
      this.#keys.set(id, key);
    }
    // A KeyObject spares createHmac re-importing the key for every URL.
    const signingKey = createSecretKey(key);
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
    const stringToSignHead = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n`;
    // The parts of one batch share their header names and query keys: sort the headers and
    // order the canonical query once per shape, not once per URL.
    const layouts = new Map<string, Layout>();
    const layoutOf = (headerNames: string[], queryKeys: string[]): Layout => {
      const id = `${headerNames.join(';')}\n${queryKeys.join('\n')}`;
      let layout = layouts.get(id);
      if (!layout) {
        const lower = headerNames.map((n) => n.toLowerCase());
        const names = [...new Set(['host', ...lower])].sort();
        const own = new Set([...queryKeys, 'X-Amz-SignedHeaders']);
        const order = [...new Set([...base.keys(), ...own])].sort();
        layout = {
          names,
          signedHeaders: names.join(';'),
          // Per query key: the template's fixed `k=v`, or the escaped `k=` to append this URL's value to.
          query: order.map((k) => {
            if (k === 'X-Amz-SignedHeaders') return { fixed: `${escape(k)}=${escape(names.join(';'))}` };
            return own.has(k) ? { own: k, prefix: `${escape(k)}=` } : { fixed: base.get(k) as string };
          }),
          lowerOf: new Map(headerNames.map((n, i) => [n, lower[i] as string])),
        };
        layouts.set(id, layout);
      }
      return layout;
    };
    const queryOf = (layout: Layout, value: (key: string) => string) => {
      let canonicalQuery = '';
      for (const part of layout.query) {
        if (canonicalQuery) canonicalQuery += '&';
        if ('fixed' in part) canonicalQuery += part.fixed;
        else canonicalQuery += part.prefix + value(part.own);
      }
      return canonicalQuery;
    };
    const signed = (method: string, query: Record<string, string>, headers: Record<string, string>, path = this.#path) => {
      const headerNames = Object.keys(headers);
      const layout = layoutOf(headerNames, Object.keys(query));
      const h: Record<string, string> = { host: this.#host };
      for (const n of headerNames) h[layout.lowerOf.get(n) as string] = canonicalValue(headers[n] as string);
      const canonicalQuery = queryOf(layout, (k) => escape(query[k] as string));
      let canonicalHeaders = '';
      for (const n of layout.names) canonicalHeaders += `${n}:${h[n]}\n`;
      const canonicalRequest = `${method}\n${path}\n${canonicalQuery}\n${canonicalHeaders}\n${layout.signedHeaders}\nUNSIGNED-PAYLOAD`;
      const signature = createHmac('sha256', signingKey).update(stringToSignHead + sha256Hex(canonicalRequest)).digest('hex');
      return { canonicalQuery, signature };
    };
    return {
      url: (method, query, headers, path = this.#path) => {
        const { canonicalQuery, signature } = signed(method, query, headers, path);
        return `${this.#origin}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
      },
      signature: (method, query, headers, path) => signed(method, query, headers, path).signature,
      template: (queryKeys, headerNames) => {
        // The placeholders go in raw (not %-escaped), where each URL's escaped value will go.
        const canonicalQuery = queryOf(layoutOf(headerNames, queryKeys), (k) => `{${k}}`);
        return `${this.#origin}${this.#path}?${canonicalQuery}&X-Amz-Signature={signature}`;
      },
    };
  }
}
