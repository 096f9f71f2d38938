import { z } from 'zod';
import { type Exposure, exposureConfig, exposureEnv } from './exposure.js';

/** Environment of `chute-server`, validated at start. Every variable is documented in README.md. */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const opt = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t.optional());

const envSchema = z.object({
  HOST: opt(z.string().min(1)).default('127.0.0.1'),
  PORT: opt(int(0, 65535)).default(8787),
  PUBLIC_URL: opt(z.url()),
  LOG_LEVEL: opt(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),

  R2_ACCOUNT_ID: opt(z.string().regex(/^[a-f0-9]{32}$/, 'must be the 32 hex digits of your Cloudflare account id')),
  R2_JURISDICTION: opt(z.enum(['eu', 'fedramp', 'us'])),
  S3_ENDPOINT: opt(z.url()),
  S3_REGION: opt(z.string().min(1)).default('auto'),
  S3_BUCKET: opt(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name')),
  S3_ACCESS_KEY_ID: opt(z.string().min(1)),
  S3_SECRET_ACCESS_KEY: opt(z.string().min(1)),
  S3_FORCE_PATH_STYLE: opt(bool),

  DATA_DIR: opt(z.string().min(1)).default('.data'),
  LOCAL_R2_PORT: opt(int(0, 65535)).default(0),

  AUTH_MODE: opt(z.enum(['open', 'tokens', 'jwt'])),
  AUTH_TOKENS: opt(z.string()),
  JWT_SECRET: opt(z.string().min(32, 'must be at least 32 characters')),
  JWT_JWKS_URL: opt(z.url()),
  JWT_ISSUER: opt(z.string()),
  JWT_AUDIENCE: opt(z.string()),
  JWT_USER_CLAIM: opt(z.string()).default('sub'),
  JWT_ALLOW_ANY_AUDIENCE: opt(bool).default(false),
  JWT_ALLOW_ANY_ISSUER: opt(bool).default(false),
  JWT_MAX_TOKEN_AGE_SECONDS: opt(int(1)),
  TOKEN_SECRETS: opt(list),

  CORS_ORIGINS: opt(list).default([]),
  // Preflight-free sign-parts and complete (text/plain, authorised by the upload token alone).
  TOKEN_FORM: opt(bool).default(true),
  // Whether browsers reach the store over HTTP/2+: auto = R2 endpoints yes, http:// no, else the TLS ALPN probe at start.
  STORE_MULTIPLEXED: opt(z.union([z.literal('auto'), bool])).default('auto'),
  MAX_FILE_SIZE: opt(int(0)),
  ALLOWED_CONTENT_TYPES: opt(list),
  MAX_PARTS: opt(int(1, 10_000)),
  MULTIPART_THRESHOLD: opt(int(0)),
  PART_SIZE: opt(int(5 * 1024 * 1024)),
  TOKEN_TTL_SECONDS: opt(int(60)),
  URL_TTL_SECONDS: opt(int(1, 604_800)),
  MAX_BODY_BYTES: opt(int(1024)),
  REQUIRE_MD5: opt(bool),
  // `auto`: probe the bucket at start and use the strongest checksum it verifies and returns.
  CHECKSUM_ALGORITHM: opt(z.enum(['auto', 'CRC64NVME', 'CRC32', 'CRC32C', 'SHA1', 'SHA256', 'NONE'])),
  RATE_LIMIT_CAPACITY: opt(int(0)).default(600),
  RATE_LIMIT_PER_SECOND: opt(z.coerce.number().min(0)).default(60),
  MAX_OPEN_UPLOADS: opt(int(0)),
  MAX_BYTES_PER_DAY: opt(int(0)),
  REDIS_URL: opt(z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')),

  // Webhooks: the signer's upload events POSTed (signed) to WEBHOOK_URL through a SQLite outbox.
  WEBHOOK_URL: opt(z.url()),
  WEBHOOK_SECRET: opt(z.string()),
  WEBHOOK_OUTBOX: opt(z.string().min(1)),
  WEBHOOK_MAX_ATTEMPTS: opt(int(1, 1000)).default(30),
  WEBHOOK_TIMEOUT_MS: opt(int(100, 600_000)).default(10_000),
  WEBHOOK_RETRY_BASE_MS: opt(int(10, 3_600_000)).default(1000),
  WEBHOOK_RETRY_MAX_MS: opt(int(10, 86_400_000)).default(600_000),

  STATIC_DIR: opt(z.string().min(1)),
  // ALLOWED_HOSTS, TRUST_PROXY, METRICS_*, LOCAL_R2_* keys, HTTP_*_TIMEOUT_MS
  ...exposureEnv,
});

export type Env = z.infer<typeof envSchema>;

export type AuthConfig =
  | { mode: 'open' }
  | { mode: 'tokens'; tokens: Record<string, string> }
  | { mode: 'jwt'; secret?: string; jwksUrl?: string; issuer?: string; audience?: string; userClaim: string; maxTokenAgeSeconds?: number };

export interface ServerConfig {
  env: Env;
  host: string;
  port: number;
  /** Bucket connection, or undefined for the embedded local-r2. */
  bucket?: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  auth: AuthConfig;
  /** Values that must never appear in logs. */
  secrets: string[];
  /** Who may reach the server and how (Host list, proxies, metrics, local-r2 keys, timeouts). */
  exposure: Exposure;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parse and cross-check the environment; throws ConfigError listing every problem at once. */
export function loadConfig(raw: NodeJS.ProcessEnv | Record<string, string | undefined>): ServerConfig {
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const secrets: string[] = [];

  let bucket: ServerConfig['bucket'];
  const endpoint =
    env.S3_ENDPOINT ??
    (env.R2_ACCOUNT_ID
      ? `https://${env.R2_ACCOUNT_ID}.${env.R2_JURISDICTION ? `${env.R2_JURISDICTION}.` : ''}r2.cloudflarestorage.com`
      : undefined);
  if (env.S3_BUCKET) {
    if (!endpoint) problems.push('S3_BUCKET is set: also set R2_ACCOUNT_ID (for R2) or S3_ENDPOINT');
    if (!env.S3_ACCESS_KEY_ID) problems.push('S3_BUCKET is set: also set S3_ACCESS_KEY_ID');
    if (!env.S3_SECRET_ACCESS_KEY) problems.push('S3_BUCKET is set: also set S3_SECRET_ACCESS_KEY');
    if (endpoint && env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY) {
      bucket = {
        endpoint,
        region: env.S3_REGION,
        bucket: env.S3_BUCKET,
        accessKeyId: env.S3_ACCESS_KEY_ID,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY,
        forcePathStyle: env.S3_FORCE_PATH_STYLE ?? !env.R2_ACCOUNT_ID,
      };
      secrets.push(env.S3_SECRET_ACCESS_KEY);
    }
  } else if (env.R2_ACCOUNT_ID || env.S3_ENDPOINT || env.S3_ACCESS_KEY_ID) {
    problems.push('a bucket connection is partly configured: set S3_BUCKET too (or unset them all for local mode)');
  }

  if (env.S3_BUCKET && !env.TOKEN_SECRETS?.length) problems.push('TOKEN_SECRETS is required with a real bucket (comma-separated, each ≥ 32 characters)');
  for (const s of env.TOKEN_SECRETS ?? []) {
    if (s.length < 32) problems.push('TOKEN_SECRETS: every secret must be at least 32 characters');
    secrets.push(s);
  }

  const mode = env.AUTH_MODE ?? (env.S3_BUCKET ? undefined : 'open');
  let auth: AuthConfig = { mode: 'open' };
  if (!mode) {
    problems.push('AUTH_MODE is required with a real bucket: tokens, jwt, or open (loopback development only)');
  } else if (mode === 'open') {
    if (!isLoopbackHost(env.HOST)) problems.push(`AUTH_MODE=open only binds to loopback, but HOST is ${env.HOST}`);
  } else if (mode === 'tokens') {
    const tokens: Record<string, string> = {};
    for (const pair of (env.AUTH_TOKENS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const i = pair.lastIndexOf(':');
      const token = pair.slice(0, i);
      const user = pair.slice(i + 1);
      if (i <= 0 || !user || token.length < 16) problems.push('AUTH_TOKENS: use token:userId pairs, tokens of at least 16 characters');
      else {
        tokens[token] = user;
        secrets.push(token);
      }
    }
    if (Object.keys(tokens).length === 0) problems.push('AUTH_MODE=tokens needs AUTH_TOKENS=token:userId,…');
    auth = { mode, tokens };
  } else {
    if (!env.JWT_SECRET === !env.JWT_JWKS_URL) problems.push('AUTH_MODE=jwt needs exactly one of JWT_SECRET or JWT_JWKS_URL');
    if (env.JWT_SECRET) secrets.push(env.JWT_SECRET);
    // Without them any token the key signs would do, also those the IdP issued for other services.
    if (!env.JWT_AUDIENCE && !env.JWT_ALLOW_ANY_AUDIENCE) {
      problems.push('AUTH_MODE=jwt needs JWT_AUDIENCE (the aud your identity provider puts in tokens for this service), or JWT_ALLOW_ANY_AUDIENCE=true to accept any audience');
    }
    if (!env.JWT_ISSUER && !env.JWT_ALLOW_ANY_ISSUER) {
      problems.push('AUTH_MODE=jwt needs JWT_ISSUER (the iss of your identity provider), or JWT_ALLOW_ANY_ISSUER=true to accept any issuer');
    }
    auth = {
      mode,
      userClaim: env.JWT_USER_CLAIM,
      ...(env.JWT_SECRET ? { secret: env.JWT_SECRET } : {}),
      ...(env.JWT_JWKS_URL ? { jwksUrl: env.JWT_JWKS_URL } : {}),
      ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
      ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
      ...(env.JWT_MAX_TOKEN_AGE_SECONDS !== undefined ? { maxTokenAgeSeconds: env.JWT_MAX_TOKEN_AGE_SECONDS } : {}),
    };
  }
  if (env.REDIS_URL) {
    try {
      const password = decodeURIComponent(new URL(env.REDIS_URL).password);
      if (password) secrets.push(password);
    } catch {
      problems.push('REDIS_URL: is not a valid URL');
    }
  }
  if (env.WEBHOOK_URL) {
    const ws = env.WEBHOOK_SECRET ?? '';
    if (ws.length < 32) problems.push('WEBHOOK_URL is set: WEBHOOK_SECRET must be set too, at least 32 characters (or a whsec_… secret)');
    else secrets.push(ws);
  } else if (env.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET is set without WEBHOOK_URL');
  }
  const exposure = exposureConfig(env, { loopback: isLoopbackHost(env.HOST), local: !env.S3_BUCKET, authMode: mode }, problems, secrets);
  if (problems.length) throw new ConfigError(problems);
  return { env, host: env.HOST, port: env.PORT, ...(bucket ? { bucket } : {}), auth, secrets, exposure };
}
