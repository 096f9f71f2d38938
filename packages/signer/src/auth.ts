import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ChuteError } from './errors.js';

export interface Identity {
  /** Stable id of the caller; their keys live under `uploads/<userId>/`. */
  userId: string;
}

export interface RequestContext {
  /** The client's IP address as the adapter sees it (after any trusted proxy). */
  ip?: string;
  /** Public base URL of the signer (scheme, host and mount path), used for self-links. */
  baseUrl?: string;
}

/** Decides who is calling. Return `null` (→ 401) for no or bad credentials; throw a ChuteError to choose the error. */
export type Authenticator = (request: Request, ctx: RequestContext) => Promise<Identity | null> | Identity | null;

export function bearerOf(request: Request): string | null {
  const h = request.headers.get('authorization');
  if (!h) return null;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}

async function sha256Hex(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Static bearer tokens: `{ token: userId }`. Tokens are compared by their SHA-256, so lookup time
 * says nothing about how much of a token was right.
 */
export function bearerTokens(tokens: Record<string, string>): Authenticator {
  const table = Promise.all(
    Object.entries(tokens).map(async ([token, userId]) => [await sha256Hex(token), userId] as const),
  ).then((rows) => new Map(rows));
  return async (request) => {
    const token = bearerOf(request);
    if (!token) return null;
    const userId = (await table).get(await sha256Hex(token));
    return userId === undefined ? null : { userId };
  };
}

export interface JwtAuthOptions {
  /** HS256 shared secret (≥ 32 bytes). */
  secret?: string;
  /** JWKS URL for asymmetric keys (RS256, ES256, EdDSA…); keys are cached and refreshed by jose. */
  jwksUrl?: string;
  /** Required `iss`, checked whenever set. */
  issuer?: string;
  /** Required `aud`, checked whenever set. */
  audience?: string;
  /** Claim holding the user id; default `sub`. */
  userClaim?: string;
  /** Allowed clock skew in seconds; default 30. */
  clockTolerance?: number;
  /**
   * Longest lifetime a token may have, seconds; default 24 h. Every token needs `exp`, at most
   * this far from now and, when it has `iat`, from `iat` (which may not lie in the future). So a
   * token valid for a year is refused with or without `iat`.
   */
  maxTokenAgeSeconds?: number;
}

/** `exp` (checked by jose) is no further than `maxAge` from now, nor from a past `iat`. */
function withinLifetime(exp: number, iat: unknown, maxAge: number, tolerance: number): boolean {
  const now = Math.floor(Date.now() / 1000);
  if (exp - now > maxAge + tolerance) return false;
  if (typeof iat !== 'number') return true;
  return iat <= now + tolerance && exp - iat <= maxAge + tolerance;
}

/** JWT bearer tokens via `jose`: HS256 with a secret, or any JWKS-published key. */
export function jwtAuth(options: JwtAuthOptions): Authenticator {
  if (!options.secret === !options.jwksUrl) throw new TypeError('jwtAuth needs exactly one of secret or jwksUrl');
  const claim = options.userClaim ?? 'sub';
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[] | undefined;
  if (options.secret) {
    if (new TextEncoder().encode(options.secret).length < 32) throw new TypeError('the JWT secret must be at least 32 bytes');
    key = new TextEncoder().encode(options.secret);
    algorithms = ['HS256'];
  } else {
    key = createRemoteJWKSet(new URL(options.jwksUrl as string));
  }
  const tolerance = options.clockTolerance ?? 30;
  const maxAge = options.maxTokenAgeSeconds ?? 86_400;
  if (!(maxAge > 0)) throw new TypeError('maxTokenAgeSeconds must be > 0');
  const verifyOptions = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
    ...(algorithms ? { algorithms } : {}),
    // A token without exp would be valid forever.
    requiredClaims: ['exp'],
    clockTolerance: tolerance,
  };
  return async (request) => {
    const token = bearerOf(request);
    if (!token) return null;
    try {
      const { payload } =
        typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
      if (!withinLifetime(payload.exp as number, payload.iat, maxAge, tolerance)) return null;
      const userId = payload[claim];
      if (typeof userId !== 'string' && typeof userId !== 'number') return null;
      return { userId: String(userId) };
    } catch (err) {
      // A bad token is a 401; an unreachable or broken JWKS endpoint is the IdP's fault, not the caller's.
      if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError)) {
        throw new ChuteError('auth_unavailable', 'The identity provider (JWKS) could not be reached.', { cause: err });
      }
      return null;
    }
  };
}

export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v === '::1' || /^127\.\d+\.\d+\.\d+$/.test(v);
}

/**
 * Open development mode: every loopback caller is `userId` (default `dev`), anyone else is refused.
 * Never use it on a server reachable from other machines.
 */
export function openDevAuth(userId = 'dev'): Authenticator {
  return (_request, ctx) => {
    if (!isLoopback(ctx.ip)) {
      throw new ChuteError('forbidden', 'The signer runs in open dev mode, which only serves loopback clients.');
    }
    return { userId };
  };
}
