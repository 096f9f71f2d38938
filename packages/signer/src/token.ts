import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { ChuteError } from './errors.js';

/**
 * HMAC-SHA256 tokens: `base64url(JSON payload).base64url(mac)`. The first secret signs; every
 * secret verifies, so secrets can be rotated without breaking uploads in flight. node:crypto
 * (Node, and workerd under nodejs_compat): synchronous, where WebCrypto's HMAC is an async job
 * on the thread pool that cost ~0.3 ms a token — a batch of small files signs one per file.
 */

const enc = new TextEncoder();

/** Strict base64url (no padding, no other alphabet), or null. */
function fromB64url(s: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64url');
}

const macOf = (key: KeyObject, body: string) => createHmac('sha256', key).update(body).digest();

export interface TokenPayload {
  /** Token kind, so a token made for one purpose is useless for another. */
  typ: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export class TokenSigner {
  readonly #keys: KeyObject[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('at least one token secret is required');
    for (const s of secrets) {
      if (enc.encode(s).length < 32) throw new TypeError('token secrets must be at least 32 bytes long');
    }
    this.#keys = secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')));
  }

  async sign(payload: TokenPayload): Promise<string> {
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${macOf(this.#keys[0] as KeyObject, body).toString('base64url')}`;
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
    // Constant-time comparison against every secret (rotation), so timing tells nothing.
    if (!this.#keys.some((key) => timingSafeEqual(macOf(key, body), mac))) throw invalid();
    let payload: unknown;
    try {
      payload = JSON.parse((fromB64url(body) ?? Buffer.alloc(0)).toString('utf8'));
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
