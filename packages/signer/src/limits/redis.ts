/**
 * @chute/signer/redis — limits and quotas shared by every signer instance through one Redis.
 * Node only (ioredis); the core never imports this file.
 */
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { consumeWith, limiterCache } from './memory.js';
import type { LimitStore, SlotTaken } from './store.js';

export type { Budget, Consumed, LimitStore, SlotTaken } from './store.js';

// One atomic step per take: drop expired members, refuse when full (answering when the earliest
// frees), else add the member and keep the set alive as long as its latest member.
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local exp = tonumber(ARGV[3])
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, first[2]}
end
if cur and tonumber(cur) > exp then exp = tonumber(cur) end
redis.call('ZADD', KEYS[1], exp, ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])))
return {1, 0}
`;

type SlotClient = Redis & { chuteTakeSlot(key: string, member: string, max: number, exp: number, now: number): Promise<[number, string | number]> };

export interface RedisLimitStoreOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://` for TLS). */
  url?: string;
  /** An ioredis client of your own (TLS, Sentinel, options…); the store's `close` leaves it open. */
  client?: Redis;
  /** Prefix of every key; default `chute:`. Instances that share limits must share it. */
  keyPrefix?: string;
  /** Connection errors of a client made from `url` (it reconnects by itself), for logs. */
  onError?: (err: Error) => void;
}

export interface RedisLimitStore extends LimitStore {
  readonly client: Redis;
  close(): Promise<void>;
}

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}

/**
 * Connects (when given a `url`) and resolves once Redis answers; rejects with a clear error
 * otherwise, so a server fails at start rather than on its first request. Commands never queue
 * while Redis is down: they fail at once, and the signer answers 503 `limits_unavailable`.
 */
export async function redisLimitStore(options: RedisLimitStoreOptions): Promise<RedisLimitStore> {
  if (!options.url === !options.client) throw new TypeError('redisLimitStore needs exactly one of url or client');
  const own = !options.client;
  const client =
    options.client ??
    new Redis(options.url as string, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      commandTimeout: 5_000,
    });
  if (own) {
    // Reconnects on its own; a failed command becomes a 503 meanwhile (never an unhandled 'error').
    client.on('error', (err: Error) => options.onError?.(err));
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      client.disconnect();
      throw new Error(`Could not connect to Redis at ${redactRedisUrl(options.url as string)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const prefix = options.keyPrefix ?? 'chute:';
  client.defineCommand('chuteTakeSlot', { numberOfKeys: 1, lua: TAKE_SLOT });
  const limiter = limiterCache(
    (b) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${prefix}${b.name}`,
        points: b.points,
        duration: b.durationSeconds,
        rejectIfRedisNotReady: true,
      }),
  );
  return {
    client,
    consume: (budget, key, points) => consumeWith(limiter(budget), key, points),
    async refund(budget, key, points) {
      await limiter(budget).reward(key, points);
    },
    async takeSlot(key, member, max, expiresAtMs, nowMs): Promise<SlotTaken> {
      const [ok, first] = await (client as SlotClient).chuteTakeSlot(`${prefix}${key}`, member, max, Math.ceil(expiresAtMs), Math.floor(nowMs));
      return ok === 1 ? { ok: true } : { ok: false, freesAtMs: Number(first) };
    },
    async releaseSlot(key, member) {
      await client.zrem(`${prefix}${key}`, member);
    },
    async close() {
      if (own) await client.quit().catch(() => client.disconnect());
    },
  };
}
