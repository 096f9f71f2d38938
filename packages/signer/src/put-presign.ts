// Single-PUT URLs without the AWS presigner's middleware. A batch of small files asks for one
// PUT URL each, and getSignedUrl costs ~0.9 ms of CPU a URL — most of the signer's work per file.
// The URLs of one header shape (which of Content-MD5 / a checksum / Content-Length are signed)
// differ only in object path, header values, date and signature, so the first URL of each shape
// is made by the SDK for a probe key and every later one is re-signed from it (~15 µs).
// Safety: a shape is trusted only if its re-signed probe URL equals the SDK's (origin and path
// byte for byte, the same query pairs). The probe key holds every character class a key can
// (space, non-ASCII, reserved, `!'()*`, `/`), so host, path style, key encoding, query and
// signature are all checked against the installed SDK. A shape that fails is signed by the SDK.
import type { AwsCredentialIdentity } from '@smithy/types';
import { encodeKeyPath, type InstantSigner, TemplatePresigner } from './fast-presign.js';

/** Every character class a key can hold, so the self-check covers the path encoding too. */
const PROBE_KEY = "chute-probe/a b+c=d&e%f#g?h~i_j-k.l/ü é/!'()*,;:@$[]";

interface Shape {
  template: TemplatePresigner;
  /** The URL path before the key (`/bucket/` path-style, `/` virtual-hosted). */
  prefix: string;
}

export class SinglePutPresigner {
  /** Per shape: its template, or null when the SDK's URLs could not be reproduced (learnt once, also by a burst). */
  readonly #shapes = new Map<string, Promise<Shape | null>>();
  #instant: { id: string; template: TemplatePresigner; signer: InstantSigner } | undefined;

  readonly #credentials: () => Promise<AwsCredentialIdentity>;

  constructor(credentials: () => Promise<AwsCredentialIdentity>) {
    this.#credentials = credentials;
  }

  /**
   * The presigned PUT URL of `key` with `headers` signed (lower-case names: content-type,
   * content-length, content-md5, a checksum). `sdk(key)` is the AWS presigner's URL for the same
   * request: the reference a new shape is checked against, and the fallback.
   */
  async url(key: string, headers: Record<string, string>, expiresIn: number, nowMs: number, sdk: (key: string) => Promise<string>): Promise<string> {
    const id = Object.keys(headers).sort().join(';');
    let learning = this.#shapes.get(id);
    if (!learning) {
      learning = this.#learn(headers, expiresIn, nowMs, sdk);
      this.#shapes.set(id, learning);
      // A failed probe (the SDK threw) is tried again by the next URL of this shape.
      learning.catch(() => this.#shapes.delete(id));
    }
    const shape = await learning;
    if (!shape) return sdk(key);
    const signer = await this.#signerAt(shape.template, expiresIn, nowMs);
    return signer.url('PUT', {}, headers, shape.prefix + encodeKeyPath(key));
  }

  /** One InstantSigner per (template, instant, expiry): every file of one batch shares it. */
  async #signerAt(template: TemplatePresigner, expiresIn: number, nowMs: number): Promise<InstantSigner> {
    const creds = await this.#credentials();
    const id = `${Math.floor(nowMs / 1000)}|${expiresIn}|${creds.accessKeyId}|${creds.sessionToken ?? ''}`;
    if (this.#instant?.id === id && this.#instant.template === template) return this.#instant.signer;
    const signer = await template.at(nowMs, expiresIn, creds);
    this.#instant = { id, template, signer };
    return signer;
  }

  async #learn(headers: Record<string, string>, expiresIn: number, nowMs: number, sdk: (key: string) => Promise<string>): Promise<Shape | null> {
    const reference = await sdk(PROBE_KEY);
    const [head = '', query = ''] = reference.split('?');
    const pathStart = head.indexOf('/', head.indexOf('//') + 2);
    const path = pathStart < 0 ? '' : head.slice(pathStart);
    const encoded = encodeKeyPath(PROBE_KEY);
    if (!path.endsWith(encoded)) return null;
    let template: TemplatePresigner;
    try {
      template = new TemplatePresigner(reference);
    } catch {
      return null;
    }
    const shape = { template, prefix: path.slice(0, path.length - encoded.length) };
    const signer = await template.at(nowMs, expiresIn, await this.#credentials());
    const [ownHead = '', ownQuery = ''] = signer.url('PUT', {}, headers, shape.prefix + encoded).split('?');
    // The same request: origin and path byte for byte, the same query pairs (S3 ignores their order).
    const pairs = (q: string) => q.split('&').sort().join('&');
    return ownHead === head && pairs(ownQuery) === pairs(query) ? shape : null;
  }
}
