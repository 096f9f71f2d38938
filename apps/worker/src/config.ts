// The Worker's settings: the same names, meanings and defaults as chute-server's environment
// (apps/server/README.md), read from the Worker's `env` (vars in wrangler.toml, secrets with
// `wrangler secret put`). Every problem is reported at once, on the first request.
import { bearerTokens, createSigner, jwtAuth, type LimitStore, openDevAuth, type Signer, type SignerOptions } from '@chute/signer';

/** Vars and secrets (all strings), plus the optional Durable Object namespace for limits. */
export interface Env {
  [name: string]: unknown;
  /** `[[durable_objects.bindings]] name = "LIMITS"`: rate limits and quotas shared by every isolate. */
  LIMITS?: DurableObjectNamespaceLike;
  /** `[assets] binding = "ASSETS"`: static files (e.g. the demo) on the API's origin. */
  ASSETS?: { fetch(request: Request): Promise<Response> };
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): unknown;
}

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Worker configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

export function signerFromEnv(env: Env, limitStore?: LimitStore): Signer {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const raw = env[name];
    // A TOML boolean or number in [vars] (`STORE_MULTIPLEXED = false`) arrives as a JSON value.
    const v = typeof raw === 'boolean' || typeof raw === 'number' ? String(raw) : raw;
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const list = (name: string) => str(name)?.split(',').map((s) => s.trim()).filter(Boolean);
  const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name}: must be a whole number ${min}..${max}`);
    return n;
  };
  /** chute-server's booleans: true/false, 1/0, yes/no. `also`: other words the setting takes, for the message. */
  const bool = (name: string, also = ''): boolean | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(v)) problems.push(`${name}: must be ${also}true or false (got "${v}")`);
    return v === 'true' || v === '1' || v === 'yes';
  };

  const account = str('R2_ACCOUNT_ID');
  if (account && !/^[a-f0-9]{32}$/.test(account)) problems.push('R2_ACCOUNT_ID: must be the 32 hex digits of your Cloudflare account id');
  const jurisdiction = str('R2_JURISDICTION');
  const endpoint = str('S3_ENDPOINT') ?? (account ? `https://${account}.${jurisdiction ? `${jurisdiction}.` : ''}r2.cloudflarestorage.com` : undefined);
  const bucket = str('S3_BUCKET');
  const accessKeyId = str('S3_ACCESS_KEY_ID');
  const secretAccessKey = str('S3_SECRET_ACCESS_KEY');
  if (!bucket) problems.push('S3_BUCKET is required (a var in wrangler.toml)');
  if (!endpoint) problems.push('set R2_ACCOUNT_ID (for R2) or S3_ENDPOINT');
  if (!accessKeyId || !secretAccessKey) problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required (wrangler secret put …)');
  const tokenSecrets = list('TOKEN_SECRETS') ?? [];
  if (tokenSecrets.length === 0) problems.push('TOKEN_SECRETS is required (wrangler secret put TOKEN_SECRETS; comma-separated, each ≥ 32 characters)');
  if (tokenSecrets.some((s) => s.length < 32)) problems.push('TOKEN_SECRETS: every secret must be at least 32 characters');

  let authenticate: SignerOptions['authenticate'] = () => null;
  const mode = str('AUTH_MODE');
  if (mode === 'tokens') {
    const tokens: Record<string, string> = {};
    for (const pair of list('AUTH_TOKENS') ?? []) {
      const i = pair.lastIndexOf(':');
      if (i < 16 || i === pair.length - 1) problems.push('AUTH_TOKENS: use token:userId pairs, tokens of at least 16 characters');
      else tokens[pair.slice(0, i)] = pair.slice(i + 1);
    }
    if (Object.keys(tokens).length === 0) problems.push('AUTH_MODE=tokens needs AUTH_TOKENS=token:userId,…');
    authenticate = bearerTokens(tokens);
  } else if (mode === 'jwt') {
    const secret = str('JWT_SECRET');
    const jwksUrl = str('JWT_JWKS_URL');
    const issuer = str('JWT_ISSUER');
    const audience = str('JWT_AUDIENCE');
    if (!secret === !jwksUrl) problems.push('AUTH_MODE=jwt needs exactly one of JWT_SECRET or JWT_JWKS_URL');
    if (!audience && !bool('JWT_ALLOW_ANY_AUDIENCE')) problems.push('AUTH_MODE=jwt needs JWT_AUDIENCE (or JWT_ALLOW_ANY_AUDIENCE=true)');
    if (!issuer && !bool('JWT_ALLOW_ANY_ISSUER')) problems.push('AUTH_MODE=jwt needs JWT_ISSUER (or JWT_ALLOW_ANY_ISSUER=true)');
    const maxAge = int('JWT_MAX_TOKEN_AGE_SECONDS', 1);
    if (!secret === !jwksUrl) authenticate = () => null;
    else
      authenticate = jwtAuth({
        userClaim: str('JWT_USER_CLAIM') ?? 'sub',
        ...(secret ? { secret } : {}),
        ...(jwksUrl ? { jwksUrl } : {}),
        ...(issuer ? { issuer } : {}),
        ...(audience ? { audience } : {}),
        ...(maxAge !== undefined ? { maxTokenAgeSeconds: maxAge } : {}),
      });
  } else if (mode === 'open') {
    // Loopback callers only (CF-Connecting-IP): `wrangler dev` / tests, never a deployed Worker.
    authenticate = openDevAuth();
  } else {
    problems.push('AUTH_MODE is required: tokens, jwt, or open (local development only)');
  }

  // STORE_MULTIPLEXED as chute-server parses it (auto or a boolean). auto: the core's default
  // (knownMultiplexed: R2 endpoints yes); the Worker cannot probe a store's TLS ALPN as chute-server does.
  const multiplexed = str('STORE_MULTIPLEXED') === 'auto' ? undefined : bool('STORE_MULTIPLEXED', 'auto, ');

  const checksum = str('CHECKSUM_ALGORITHM');
  const CHECKSUMS = ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA1', 'SHA256', 'NONE'] as const;
  if (checksum && !(CHECKSUMS as readonly string[]).includes(checksum)) problems.push(`CHECKSUM_ALGORITHM: one of ${CHECKSUMS.join(', ')} (auto is chute-server only)`);
  const capacity = int('RATE_LIMIT_CAPACITY', 0) ?? 600;
  const perSecond = str('RATE_LIMIT_PER_SECOND') === undefined ? 60 : Number(str('RATE_LIMIT_PER_SECOND'));
  if (!(perSecond >= 0)) problems.push('RATE_LIMIT_PER_SECOND: must be a number ≥ 0');
  const limits: NonNullable<SignerOptions['limits']> = {};
  const set = <K extends keyof typeof limits>(k: K, v: (typeof limits)[K] | undefined) => {
    if (v !== undefined) limits[k] = v;
  };
  set('maxFileSize', int('MAX_FILE_SIZE', 0));
  set('allowedContentTypes', list('ALLOWED_CONTENT_TYPES'));
  set('maxParts', int('MAX_PARTS', 1, 10_000));
  set('multipartThreshold', int('MULTIPART_THRESHOLD', 0));
  set('defaultPartSize', int('PART_SIZE', 5 * 1024 * 1024));
  set('tokenTtlSeconds', int('TOKEN_TTL_SECONDS', 60));
  set('urlTtlSeconds', int('URL_TTL_SECONDS', 1, 604_800));
  set('maxBodyBytes', int('MAX_BODY_BYTES', 1024));
  set('requireMd5', bool('REQUIRE_MD5'));
  set('maxOpenUploads', int('MAX_OPEN_UPLOADS', 0));
  set('maxBytesPerDay', int('MAX_BYTES_PER_DAY', 0));
  // Read before the check, so a bad value is reported rather than taken as false.
  const forcePathStyle = bool('S3_FORCE_PATH_STYLE') ?? !account;
  const tokenForm = bool('TOKEN_FORM') ?? true;
  if (problems.length) throw new WorkerConfigError(problems);

  const publicUrl = str('PUBLIC_URL');
  const allowedHosts = list('ALLOWED_HOSTS');
  return createSigner({
    s3: {
      bucket: bucket as string,
      endpoint: endpoint as string,
      region: str('S3_REGION') ?? 'auto',
      forcePathStyle,
      credentials: { accessKeyId: accessKeyId as string, secretAccessKey: secretAccessKey as string },
      ...(multiplexed !== undefined ? { multiplexed } : {}),
    },
    tokenSecrets,
    authenticate,
    corsOrigins: list('CORS_ORIGINS') ?? [],
    tokenForm,
    rateLimit: capacity > 0 && perSecond > 0 ? { capacity, refillPerSecond: perSecond } : false,
    ...(limitStore ? { limitStore } : {}),
    ...(checksum ? { checksumAlgorithm: checksum as (typeof CHECKSUMS)[number] } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(allowedHosts ? { allowedHosts } : {}),
    limits,
    onResponse(info) {
      // Workers logs (`wrangler tail`): one line per request, never URLs or headers.
      if (info.status >= 500) console.error(JSON.stringify({ method: info.method, route: info.route, status: info.status, code: info.code, err: String(info.error) }));
    },
  });
}
