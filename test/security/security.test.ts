// The security suite: one hostile case per line of attack (issue 11), against real servers in
// each auth mode. Writes RESULTS.md (cases tried, refused, and "0 accepted" only when true).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Cli } from '../../apps/server/test/cli.js';
import { accessCases } from './cases/access.js';
import { limitCases } from './cases/limits.js';
import { modeCases } from './cases/modes.js';
import { storeHeaderCases } from './cases/store-headers.js';
import { urlCases } from './cases/urls.js';
import { type Env, JWT, MAIN_LIMITS, QUOTA_LIMITS } from './lib/env.js';
import { startProxy } from './lib/proxy.js';
import { bucketEnv, JWT_SECRET, startRedis, startServer, startStore } from './lib/servers.js';
import { declared, ledger } from './lib/suite.js';

const HOLES: Record<string, string> = {
  '1': 'local-r2 obeys unsigned x-amz-* headers on a presigned URL (copy-source, SSE-C, metadata, storage class…).',
  '2': 'the stock-Uppy signRequest path signs URLs of any size; every URL must sign an exact Content-Length and the required checksum.',
  '3': 'part signing is unbounded (10,000 copies of part 1 in one request; the rate limit counts requests, not URLs).',
  '4': 'local and dev modes on a public interface; local-r2 and open mode answer any Host (DNS rebinding).',
  '5': 'TRUST_PROXY trusts the leftmost X-Forwarded-For.',
  '6': 'single-upload metadata is not bound: headers the signer never chose are stored.',
  '7': 'no quotas (open uploads, bytes per day), per instance only.',
  '8': 'JWTs without exp accepted forever; no audience or issuer by default.',
  '9': 'slow clients hold sockets (no header timeout on local-r2, 300 s bodies on the signer).',
  '10': 'aws-chunked decoded on an UNSIGNED-PAYLOAD URL: fewer bytes stored than signed.',
  '11': 'long user ids make keys over 1024 bytes (Create answered 502).',
  '12': 'the rate limiter slows down at 100k keys.',
  '13': '/metrics unauthenticated; image/* admits SVG.',
  V: 'variants: forged, expired, reused and foreign tokens; other users’ uploads and keys; .., %2F and control characters in keys; oversize, wrong type, request smuggling; each auth mode without credentials.',
};

let env: Env | undefined;
const closers: (() => Promise<unknown>)[] = [];
const cliStop = (c: Cli) => () => c.stop();

beforeAll(async () => {
  const store = await startStore();
  closers.push(() => store.close());
  const redis = await startRedis();
  closers.push(() => redis.close());
  const localDir = mkdtempSync(path.join(os.tmpdir(), 'chute-security-local-'));
  closers.push(async () => rmSync(localDir, { recursive: true, force: true }));
  const [main, quota, limited, jwt, local, a, b] = await Promise.all([
    startServer(bucketEnv(store, { ...MAIN_LIMITS })),
    startServer(bucketEnv(store, { ...QUOTA_LIMITS })),
    startServer(bucketEnv(store, { RATE_LIMIT_CAPACITY: '5', RATE_LIMIT_PER_SECOND: '0.5', TRUST_PROXY: '1' })),
    startServer(bucketEnv(store, { AUTH_MODE: 'jwt', JWT_SECRET, JWT_AUDIENCE: JWT.audience, JWT_ISSUER: JWT.issuer })),
    startServer({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: localDir, LOG_LEVEL: 'warn' }),
    startServer(bucketEnv(store, { REDIS_URL: redis.url, MAX_OPEN_UPLOADS: '3', RATE_LIMIT_CAPACITY: '10', RATE_LIMIT_PER_SECOND: '0.1' })),
    startServer(bucketEnv(store, { REDIS_URL: redis.url, MAX_OPEN_UPLOADS: '3', RATE_LIMIT_CAPACITY: '10', RATE_LIMIT_PER_SECOND: '0.1' })),
  ]);
  for (const c of [main, quota, limited, jwt, local, a, b]) closers.push(cliStop(c));
  const proxy = await startProxy(limited.url);
  closers.push(() => proxy.close());
  const localR2Url = /embedded local-r2 at (http:\/\/[\d.:[\]]+)/.exec(local.output())?.[1];
  if (!localR2Url) throw new Error(`local mode printed no local-r2 endpoint:\n${local.output()}`);
  env = { store, main, quota, limited, proxyUrl: proxy.url, jwt, local, localR2Url, redis, shared: [a, b] };
}, 180_000);

afterAll(async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Only a complete run rewrites the committed report (a filtered run would shrink it).
  if (ledger.entries.length === declared) ledger.write(path.join(here, 'RESULTS.md'), HOLES, 'npx vitest run test/security');
  for (const close of closers.reverse()) await close().catch(() => {});
}, 60_000);

const current = (): Env => {
  if (!env) throw new Error('the servers did not start');
  return env;
};

describe('security', () => {
  storeHeaderCases(current);
  urlCases(current);
  accessCases(current);
  modeCases(current);
  limitCases(current);
});
