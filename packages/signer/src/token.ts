import { ChuteError } from './errors.js';

/**
 * HMAC-SHA256 tokens: `base64url(JSON payload).base64url(mac)`. The first secret signs; every
 * secret verifies, so secrets can be rotated without breaking uploads in flight. WebCrypto
 * only (Node, workers, Deno alike); `crypto.subtle.verify` compares in constant time.
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface TokenPayload {
  /** Token kind, so a token made for one purpose is useless for another. */
  typ: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export class TokenSigner {
  readonly #keys: Promise<HmacKey[]>;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('at least one token secret is required');
    for (const s of secrets) {
      if (enc.encode(s).length < 32) throw new TypeError('token secrets must be at least 32 bytes long');
    }
    this.#keys = Promise.all(
      secrets.map((s) =>
        crypto.subtle.importKey('raw', enc.encode(s), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
      ),
    );
  }

  async sign(payload: TokenPayload): Promise<string> {
    const body = b64url(enc.encode(JSON.stringify(payload)));
    const [key] = await this.#keys;
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key as HmacKey, enc.encode(body)));
    return `${body}.${b64url(mac)}`;
  }

  /**
   * The payload of a valid, unexpired token of kind `typ`. Throws `invalid_token` for anything
   * forged or malformed and `token_expired` after `exp` — or only once `exp` is more than
   * `expiredGraceSeconds` past (the owner may still abort an upload whose token expired).
   */
  async verify<T extends TokenPayload>(token: string, typ: string, nowSeconds: number, options: { expiredGraceSeconds?: number } = {}): Promise<T> {
    const invalid = () => new ChuteError('invalid_token', 'The upload token is not valid for this request.');
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 4096) throw invalid();
    const body = token.slice(0, dot);
    const mac = fromB64url(token.slice(dot + 1));
    if (!mac || mac.length !== 32) throw invalid();
    let ok = false;
    for (const key of await this.#keys) {
      if (await crypto.subtle.verify('HMAC', key, mac, enc.encode(body))) {
        ok = true;
        break;
      }
    }
    if (!ok) throw invalid();
    let payload: unknown;
    try {
      payload = JSON.parse(dec.decode(fromB64url(body) ?? new Uint8Array()));
    } catch {
      throw invalid();
    }
    const p = payload as Partial<TokenPayload> | null;
    if (!p || typeof p !== 'object' || p.typ !== typ || typeof p.exp !== 'number') throw invalid();
    if (p.exp + (options.expiredGraceSeconds ?? 0) <= nowSeconds) {
      throw new ChuteError('token_expired', 'The upload token has expired; start the upload again.', {
        details: { expiredAt: new Date(p.exp * 1000).toISOString() },
      });
    }
    return payload as T;
  }
}
