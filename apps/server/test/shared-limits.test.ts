import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RedisServer, startRedis } from '../../../packages/signer/test/redis-server.js';
import { type Cli, runCli, startCli } from './cli.js';

// Test responses are loosely typed on purpose.
type Json = any;

// Two real chute-server processes share one real redis-server (REDIS_URL) and one bucket: a
// user's rate budget and quotas hold across both, as behind a load balancer.
const BUCKET = 'shared-limits';
let baseEnv: Record<string, string>;
const TOKENS = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789ab' };
let dir: string;
let r2: LocalR2;
let redis: RedisServer;
let servers: [Cli, Cli];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-shared-limits-'));
  [r2, redis] = await Promise.all([
    startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {} }),
    startRedis(),
  ]);
  const env = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: 'shared-limits-token-secret-0123456789abcdef',
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: Object.entries(TOKENS).map(([user, token]) => `${token}:${user}`).join(','),
    REDIS_URL: redis.url,
    RATE_LIMIT_CAPACITY: '10',
    RATE_LIMIT_PER_SECOND: '0.01',
    MAX_OPEN_UPLOADS: '3',
  };
  baseEnv = env;
  servers = await Promise.all([startCli(env), startCli(env)]);
}, 120_000);

afterAll(async () => {
  await Promise.all((servers ?? []).map((s) => s.stop('SIGTERM')));
  await redis?.stop();
  await r2?.close();
  await rm(dir, { recursive: true, force: true });
});

const call = async (i: number, who: keyof typeof TOKENS, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const server = servers[i % 2] as Cli;
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKENS[who]}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as Json, retryAfter: r.headers.get('retry-after') };
};

describe('two chute-server processes, one Redis', () => {
  test('the request budget (10 per user) is shared: 10 split across both, the 11th is 429 on either', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(i, 'bob', 'GET', '/api/uploads')).status);
    expect(statuses).toEqual(Array(10).fill(200));
    for (const i of [0, 1]) {
      const r = await call(i, 'bob', 'GET', '/api/uploads');
      expect([r.status, r.body.error.code]).toEqual([429, 'rate_limited']);
      expect(r.retryAfter).toMatch(/^\d+$/);
    }
  });

  test('the open-upload quota (3 per user) is shared; an abort on one server frees a slot on the other', async () => {
    const create = (i: number) => call(i, 'alice', 'POST', '/api/uploads', { name: 'q.bin', size: 6 * 2 ** 20, multipart: true });
    const made = [await create(0), await create(1), await create(0)];
    expect(made.map((r) => r.status)).toEqual([201, 201, 201]);
    const refused = await create(1);
    expect([refused.status, refused.body.error.code]).toEqual([429, 'quota_exceeded']);
    expect(refused.body.error.message).toMatch(/3 open multipart uploads/);
    const u = made[0]?.body;
    const aborted = await call(1, 'alice', 'DELETE', `/api/uploads/${encodeURIComponent(u.uploadId)}`, undefined, { 'chute-upload-token': u.token });
    expect(aborted.status).toBe(200);
    expect((await create(0)).status).toBe(201);
  });

  test('an unreachable REDIS_URL stops the server at start, saying so (password not shown)', async () => {
    const run = runCli([], { ...baseEnv, REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:1' });
    const code = await run.exit;
    expect(code).toBe(1);
    expect(run.output()).toMatch(/Could not connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(run.output()).not.toContain('hunter2-secret');
  });
});
