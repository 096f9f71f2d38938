import { MiB } from '@chute/protocol';
import type { Signer } from '@chute/signer';
import { type RedisLimitStore, redisLimitStore } from '@chute/signer/redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, signerFor, startStore } from './helpers.js';
import { type RedisServer, startRedis } from './redis-server.js';

// Test responses are loosely typed on purpose.
type Json = any;

// Two signer instances, each with its own Redis connection, against one real redis-server.
let redis: RedisServer;
let store: Awaited<ReturnType<typeof startStore>>;
const limitStores: RedisLimitStore[] = [];
beforeAll(async () => {
  [redis, store] = await Promise.all([startRedis(), startStore()]);
});
afterAll(async () => {
  for (const s of limitStores) await s.close();
  await store?.close();
  await redis?.stop();
});

async function pair(over: Parameters<typeof signerFor>[1], keyPrefix = `t${crypto.randomUUID()}:`): Promise<[Signer, Signer]> {
  const [a, b] = await Promise.all([redisLimitStore({ url: redis.url, keyPrefix }), redisLimitStore({ url: redis.url, keyPrefix })]);
  limitStores.push(a, b);
  return [signerFor(store.r2, { ...over, limitStore: a }), signerFor(store.r2, { ...over, limitStore: b })];
}
const list = (s: Signer, who: 'alice' | 'bob' = 'alice') => api(s, who, 'GET', '/api/uploads').then((r) => r.status);
const create = (s: Signer, who: 'alice' | 'bob' = 'alice') =>
  api<Json>(s, who, 'POST', '/api/uploads', { name: 'q.bin', size: 6 * MiB, multipart: true, partSize: 5 * MiB });

describe('redisLimitStore shared by two signers', () => {
  test('one request budget: capacity 6 split across both, the 7th is 429 on either', async () => {
    const [a, b] = await pair({ rateLimit: { capacity: 6, refillPerSecond: 0.01 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await list(i % 2 ? b : a));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await list(a)).toBe(429);
    expect(await list(b)).toBe(429);
    expect(await list(b, 'bob')).toBe(200);
  });

  test('one open-upload quota: 3 across both, the 4th is quota_exceeded; an abort on one frees a slot on the other', async () => {
    const [a, b] = await pair({ limits: { maxOpenUploads: 3 } });
    const made = [await create(a), await create(b), await create(a)];
    expect(made.map((r) => r.status)).toEqual([201, 201, 201]);
    const r = await create(b);
    expect([r.status, r.body.error.code]).toEqual([429, 'quota_exceeded']);
    const u = made[0]?.body;
    const aborted = await api(b, 'alice', 'DELETE', `/api/uploads/${encodeURIComponent(u.uploadId)}`, undefined, { 'chute-upload-token': u.token });
    expect(aborted.status).toBe(200);
    expect((await create(a)).status).toBe(201);
    expect((await create(b)).status).toBe(429);
  });

  test('one bytes-per-day quota across both', async () => {
    const [a, b] = await pair({ limits: { maxBytesPerDay: 13 * MiB } });
    expect((await create(a)).status).toBe(201);
    expect((await create(b)).status).toBe(201);
    const r = await create(a);
    expect([r.status, r.body.error.code]).toEqual([429, 'quota_exceeded']);
  });

  test('slots expire with their token: a forgotten upload frees its slot in Redis too', async () => {
    let now = Date.now();
    const keyPrefix = `t${crypto.randomUUID()}:`;
    const ls = await redisLimitStore({ url: redis.url, keyPrefix });
    limitStores.push(ls);
    expect(await ls.takeSlot('open:u', 'a', 1, now + 60_000, now)).toEqual({ ok: true });
    expect(await ls.takeSlot('open:u', 'a', 1, now + 60_000, now)).toEqual({ ok: true }); // same member: one slot
    expect(await ls.takeSlot('open:u', 'b', 1, now + 90_000, now)).toEqual({ ok: false, freesAtMs: now + 60_000 });
    now += 61_000;
    expect(await ls.takeSlot('open:u', 'b', 1, now + 60_000, now)).toEqual({ ok: true });
    // The set itself expires with its latest member: nothing is left behind in Redis.
    expect(Number(await ls.client.call('PEXPIRETIME', `${keyPrefix}open:u`))).toBe(now + 60_000);
  });

  test('Redis unreachable: 503 limits_unavailable (never a silent pass or a 500); a bad URL fails at start', async () => {
    const scratch = await startRedis();
    const ls = await redisLimitStore({ url: scratch.url });
    const s = signerFor(store.r2, { rateLimit: { capacity: 5, refillPerSecond: 1 }, limitStore: ls });
    expect(await list(s)).toBe(200);
    await scratch.stop();
    const r = await api<Json>(s, 'alice', 'GET', '/api/uploads');
    expect([r.status, r.body.error.code]).toEqual([503, 'limits_unavailable']);
    await ls.close();
    await expect(redisLimitStore({ url: scratch.url })).rejects.toThrow(/Could not connect to Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });
});
