// SigV4 signing of arbitrary (also malformed) S3 requests for the fuzzer, with
// @smithy/signature-v4 and node:crypto as its SHA-256.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

class Sha256 {
  #h: Hash | Hmac;
  readonly #secret: string | Uint8Array | undefined;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined ? undefined : typeof secret === 'string' ? secret : new Uint8Array(secret as ArrayBuffer);
    this.#h = this.#make();
  }
  #make(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: string | Uint8Array): void {
    this.#h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
  reset(): void {
    this.#h = this.#make();
  }
}

export interface RawRequest {
  method: string;
  /** Already percent-encoded path, e.g. `/bucket/a%20key`. */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: Buffer;
}

/** RFC 3986 encoding as SigV4 wants it. */
export const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function queryString(q: [string, string][]): string {
  return q.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
}

export function makeSigner(accessKeyId: string, secretAccessKey: string, date?: () => Date) {
  const sv4 = new SignatureV4({
    service: 's3',
    region: 'auto',
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const queryObj = (q: [string, string][]) => {
    const o: Record<string, string | string[]> = {};
    for (const [k, v] of q) {
      const prev = o[k];
      o[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return o;
  };
  const base = (host: string, r: RawRequest) => {
    const [hostname, port] = host.split(':');
    return {
      method: r.method,
      protocol: 'http:',
      hostname: hostname ?? host,
      ...(port ? { port: Number(port) } : {}),
      path: r.path,
      query: queryObj(r.query),
      headers: { host, ...r.headers },
    };
  };
  return {
    /** Header auth; returns the headers to send (Authorization, x-amz-date, …). */
    async sign(host: string, r: RawRequest): Promise<Record<string, string>> {
      const headers = { ...r.headers };
      headers['x-amz-content-sha256'] ??= r.body ? createHash('sha256').update(r.body).digest('hex') : 'UNSIGNED-PAYLOAD';
      const signed = await sv4.sign(base(host, { ...r, headers }), date ? { signingDate: date() } : {});
      return signed.headers as Record<string, string>;
    },
    /** Query auth (presigned); returns the full query list to send. */
    async presign(host: string, r: RawRequest, expiresIn = 300): Promise<[string, string][]> {
      const signed = await sv4.presign(base(host, r), { expiresIn, ...(date ? { signingDate: date() } : {}) });
      const out: [string, string][] = [];
      for (const [k, v] of Object.entries(signed.query ?? {})) {
        for (const x of Array.isArray(v) ? v : [v]) if (x != null) out.push([k, String(x)]);
      }
      return out;
    },
  };
}
