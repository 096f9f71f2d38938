import { isIP } from 'node:net';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from '@chute/local-r2';
import { checkHostPatterns } from '@chute/signer';
import { z } from 'zod';

/**
 * The settings that decide who can reach chute-server and how: Host allow-list, trusted proxy
 * hops, /metrics access, local-r2 keys on a public interface, HTTP timeouts. Each is checked
 * against HOST and the auth mode at start; README "Security" says why.
 */

const opt = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t.optional());
const ms = (min: number) => z.coerce.number().int().min(min).max(3_600_000);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** Merged into the env schema of config.ts. */
export const exposureEnv = {
  ALLOWED_HOSTS: opt(list),
  TRUST_PROXY: opt(z.string()),
  METRICS_TOKEN: opt(z.string().min(16, 'must be at least 16 characters')),
  METRICS_HOST: opt(z.string().min(1)),
  METRICS_PORT: opt(z.coerce.number().int().min(0).max(65535)),
  LOCAL_R2_ACCESS_KEY_ID: opt(z.string().regex(/^[A-Za-z0-9_-]{3,128}$/, 'must be 3..128 letters, digits, - or _')),
  LOCAL_R2_SECRET_ACCESS_KEY: opt(z.string().min(32, 'must be at least 32 characters')),
  HTTP_HEADERS_TIMEOUT_MS: opt(ms(100)).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: opt(ms(100)).default(30_000),
  // An uploader calls the signer every few seconds to minutes (sign ahead, complete): at Node's 5 s
  // default most calls paid a new connection (TCP + TLS: 2–3 round trips). 55 s stays below the idle limit.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: opt(ms(100)).default(55_000),
  HTTP_IDLE_TIMEOUT_MS: opt(ms(100)).default(60_000),
};

const exposureSchema = z.object(exposureEnv);
type ExposureEnv = z.infer<typeof exposureSchema> & {
  HOST: string;
  PUBLIC_URL?: string | undefined;
};

export interface Exposure {
  /** Host names answered on the main listener (and passed to the embedded local-r2). */
  allowedHosts: string[];
  /** Express `trust proxy`: false, a hop count, or addresses/subnets of the proxies. */
  trustProxy: false | number | string[];
  metrics: { token?: string; listen?: { host: string; port: number } };
  /** Keys of the embedded local-r2 (undefined: its published dev keys, loopback only). */
  localR2Credentials?: { accessKeyId: string; secretAccessKey: string };
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; idleTimeoutMs: number };
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Cross-checks; pushes every problem (and every secret, for the log scrubber). */
export function exposureConfig(
  env: ExposureEnv,
  p: { loopback: boolean; local: boolean; authMode: string | undefined },
  problems: string[],
  secrets: string[],
): Exposure {
  const host = env.HOST;
  // Open mode on a public HOST is refused on its own (config.ts); the fix is loopback, not the rest.
  const exposed = !p.loopback && p.authMode !== 'open';

  // Without a list, a non-loopback server answers any Host: DNS rebinding reaches it through browsers.
  const allowedHosts = [...(env.ALLOWED_HOSTS ?? [])];
  if (env.PUBLIC_URL) allowedHosts.push(new URL(env.PUBLIC_URL).host);
  if (p.loopback) allowedHosts.push(...LOOPBACK_NAMES);
  if (exposed && !env.ALLOWED_HOSTS?.length && !env.PUBLIC_URL) {
    problems.push(
      `HOST is ${host}, reachable from other machines: set PUBLIC_URL (its host is then the name answered) or ALLOWED_HOSTS=uploads.example.com,… so requests for other Host names (DNS rebinding) are refused`,
    );
  }
  try {
    checkHostPatterns(env.ALLOWED_HOSTS ?? []);
  } catch (err) {
    problems.push(`ALLOWED_HOSTS: ${(err as Error).message.replace(/^allowedHosts: /, '')}`);
  }

  const trustProxy = parseTrustProxy(env.TRUST_PROXY, problems);
  if (trustProxy !== false && p.authMode === 'open') {
    problems.push('AUTH_MODE=open serves loopback callers only and must never be reached through a proxy: unset TRUST_PROXY (or choose AUTH_MODE=tokens or jwt)');
  }

  if (env.METRICS_TOKEN) secrets.push(env.METRICS_TOKEN);
  let listen: Exposure['metrics']['listen'];
  if (env.METRICS_PORT !== undefined) {
    listen = { host: env.METRICS_HOST ?? '127.0.0.1', port: env.METRICS_PORT };
  } else if (env.METRICS_HOST) {
    problems.push('METRICS_HOST is set: also set METRICS_PORT (the port of the separate /metrics listener)');
  }

  // The published dev keys are in every README: on a public interface they open the bucket to anyone.
  let localR2Credentials: Exposure['localR2Credentials'];
  const id = env.LOCAL_R2_ACCESS_KEY_ID;
  const secret = env.LOCAL_R2_SECRET_ACCESS_KEY;
  if (!id !== !secret) problems.push('LOCAL_R2_ACCESS_KEY_ID and LOCAL_R2_SECRET_ACCESS_KEY go together: set both or neither');
  else if (id && secret) {
    if (id === DEFAULT_ACCESS_KEY_ID || secret === DEFAULT_SECRET_ACCESS_KEY) {
      problems.push('LOCAL_R2_ACCESS_KEY_ID / LOCAL_R2_SECRET_ACCESS_KEY: these are local-r2’s published dev keys; choose your own');
    }
    localR2Credentials = { accessKeyId: id, secretAccessKey: secret };
    secrets.push(secret);
  }
  if (p.local && exposed && !localR2Credentials) {
    problems.push(
      `local mode on HOST=${host}: the embedded local-r2 would listen there with its published dev keys (${DEFAULT_ACCESS_KEY_ID}), so anyone could read and write the bucket; set LOCAL_R2_ACCESS_KEY_ID and LOCAL_R2_SECRET_ACCESS_KEY (≥ 32 characters), configure a real bucket (S3_BUCKET), or keep HOST on loopback`,
    );
  }

  const http = {
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: env.HTTP_IDLE_TIMEOUT_MS,
  };
  // Node refuses a server whose headers may take longer than the whole request.
  if (http.headersTimeoutMs > http.requestTimeoutMs) problems.push('HTTP_HEADERS_TIMEOUT_MS must not be larger than HTTP_REQUEST_TIMEOUT_MS');
  // The idle limit would cut a keep-alive connection before its keep-alive time is up.
  if (http.keepAliveTimeoutMs > http.idleTimeoutMs) problems.push('HTTP_KEEP_ALIVE_TIMEOUT_MS must not be larger than HTTP_IDLE_TIMEOUT_MS');

  return {
    allowedHosts: [...new Set(allowedHosts)],
    trustProxy,
    metrics: { ...(env.METRICS_TOKEN ? { token: env.METRICS_TOKEN } : {}), ...(listen ? { listen } : {}) },
    ...(localR2Credentials ? { localR2Credentials } : {}),
    http,
  };
}

/**
 * `TRUST_PROXY`: a hop count (`1`: one proxy in front) or the proxies' addresses and subnets
 * (`10.0.0.0/8,loopback`). `true` is refused: trusting every hop lets a client name its own
 * address in X-Forwarded-For (the leftmost entry), escaping per-IP limits.
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): Exposure['trustProxy'] {
  const v = raw?.trim().toLowerCase();
  if (v === undefined || v === 'false' || v === 'no' || v === '0') return false;
  if (v === 'true' || v === 'yes') {
    problems.push(
      'TRUST_PROXY=true would trust every X-Forwarded-For hop, so any client could choose its own address: set the number of proxies in front of chute-server (TRUST_PROXY=1) or their addresses (TRUST_PROXY=10.0.0.0/8,loopback)',
    );
    return false;
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 10) problems.push('TRUST_PROXY: a hop count above 10 is not a real proxy chain; give the number of proxies in front of chute-server');
    return hops;
  }
  const entries = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const e of entries) {
    if (!PROXY_NAMES.has(e) && !isSubnet(e)) {
      problems.push(`TRUST_PROXY: '${e}' is not a hop count, an IP address, a subnet (10.0.0.0/8) or loopback/linklocal/uniquelocal`);
    }
  }
  return entries;
}

function isSubnet(s: string): boolean {
  const [ip, bits, ...rest] = s.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length) return false;
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
