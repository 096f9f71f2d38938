// The servers every case group attacks, started once by security.test.ts.
import type { Cli } from '../../../apps/server/test/cli.js';
import type { Redis, Store } from './servers.js';

export interface Env {
  store: Store;
  /** tokens mode against the store, with size/type limits, metrics token, short timeouts. */
  main: Cli;
  /** tokens mode with the per-user quotas (QUOTA_LIMITS), so other cases never run into them. */
  quota: Cli;
  /** tokens mode with a small rate budget behind one trusted proxy hop (TRUST_PROXY=1). */
  limited: Cli;
  /** the URL of the proxy in front of `limited` (it appends 203.0.113.9 as the client's address). */
  proxyUrl: string;
  /** jwt mode with audience and issuer. */
  jwt: Cli;
  /** local mode: no bucket, embedded local-r2, open dev auth on loopback. */
  local: Cli;
  /** the embedded local-r2 of `local`. */
  localR2Url: string;
  /** two instances sharing one Redis, MAX_OPEN_UPLOADS=3. */
  redis: Redis;
  shared: [Cli, Cli];
}

export const MAIN_LIMITS = {
  MAX_FILE_SIZE: '20000000',
  ALLOWED_CONTENT_TYPES: 'image/*,text/plain,application/octet-stream',
  METRICS_TOKEN: 'metrics-token-0123456789abcdef',
  HTTP_HEADERS_TIMEOUT_MS: '1000',
  HTTP_REQUEST_TIMEOUT_MS: '2000',
} as const;

export const QUOTA_LIMITS = {
  MAX_FILE_SIZE: '20000000',
  MAX_OPEN_UPLOADS: '5',
  MAX_BYTES_PER_DAY: '80000000',
} as const;

export const JWT = { audience: 'chute-security', issuer: 'https://idp.security.test' } as const;
