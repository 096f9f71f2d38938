// Starts the signer as a child process (so it can be kill -9'd and its RSS read): by default the
// real `chute-server` (apps/server, configured through its env), or with CHUTE_SIGNER_IMPL=host
// the bare core behind its Express adapter (signer-host.ts). Workspace packages come from their
// sources when CHUTE_USE_SOURCE=1 or when not built.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeEntry, repoRoot, type Service, spawnService } from './services.js';
import type { SignerHostConfig } from './signer-config.js';

const hostFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'signer-host.ts');
export const DEFAULT_TOKEN_SECRET = 'reliability-and-bench-token-secret-0123456789abcdef';

/** chute-server's environment for a signer config: tokens auth, path-style store, rate limits off unless set. */
export function serverEnv(c: SignerHostConfig): Record<string, string> {
  const l = (c.limits ?? {}) as Record<string, number | undefined>;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(c.port ?? 0),
    LOG_LEVEL: 'info', // the default, and the level that prints the ready line
    S3_ENDPOINT: c.storeEndpoint,
    S3_BUCKET: c.bucket,
    S3_ACCESS_KEY_ID: c.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: c.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: Object.entries(c.tokens)
      .map(([t, u]) => `${t}:${u}`)
      .join(','),
    TOKEN_SECRETS: (c.tokenSecrets ?? [DEFAULT_TOKEN_SECRET]).join(','),
    CORS_ORIGINS: (c.corsOrigins ?? ['*']).join(','),
    RATE_LIMIT_CAPACITY: c.rateLimit ? String(c.rateLimit.capacity) : '0',
    RATE_LIMIT_PER_SECOND: c.rateLimit ? String(c.rateLimit.refillPerSecond) : '0',
  };
  if (l.multipartThreshold !== undefined) env.MULTIPART_THRESHOLD = String(l.multipartThreshold);
  if (l.defaultPartSize !== undefined) env.PART_SIZE = String(l.defaultPartSize);
  return env;
}

export function startSignerProcess(config: SignerHostConfig): Promise<Service> {
  const useSource = process.env.CHUTE_USE_SOURCE === '1' || !existsSync(path.join(repoRoot, 'packages/signer/dist/index.js'));
  const hasServer = existsSync(path.join(repoRoot, 'apps/server/src/cli.ts'));
  if ((process.env.CHUTE_SIGNER_IMPL ?? (hasServer ? 'server' : 'host')) === 'server') {
    return spawnService({
      args: nodeEntry('apps/server', 'cli', useSource),
      env: serverEnv(config),
      ready: /chute-server listening on (http:\/\/[\d.:]+)/,
    });
  }
  return spawnService({
    args: [...(useSource ? ['--conditions=source'] : []), '--import', 'tsx', hostFile],
    env: { CHUTE_SIGNER_HOST_CONFIG: JSON.stringify(config) },
    ready: /signer listening on (http:\/\/[\d.:]+)/,
  });
}
