import type { RateLimiterAbstract as Limiter, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimiterMemory } from './rlf-memory.js';
import type { Budget, Consumed, LimitStore, SlotTaken } from './store.js';

/** One limiter per budget; rate-limiter-flexible keeps a Map with a timer per key, so each call is O(1). */
export function limiterCache(make: (budget: Budget) => Limiter) {
  const limiters = new Map<string, Limiter>();
  return (budget: Budget): Limiter => {
    const id = `${budget.name}:${budget.points}:${budget.durationSeconds}`;
    let l = limiters.get(id);
    if (!l) limiters.set(id, (l = make(budget)));
    return l;
  };
}

const isRes = (e: unknown): e is RateLimiterRes => typeof e === 'object' && e !== null && 'msBeforeNext' in e && !(e instanceof Error);

/** rate-limiter-flexible counts a refused take; give it back so a too-large request costs nothing. */
export async function consumeWith(limiter: Limiter, key: string, points: number): Promise<Consumed> {
  try {
    await limiter.consume(key, points);
    return { ok: true };
  } catch (err) {
    if (!isRes(err)) throw err;
    await limiter.reward(key, points);
    return { ok: false, retryAfterMs: Math.max(0, err.msBeforeNext) };
  }
}

/**
 * Per-key sets with expiring members, in memory. Each call prunes its own set (≤ `max` members)
 * and sweeps two other sets, so abandoned sets go away without a pass over every key.
 */
export class MemorySlots {
  readonly #sets = new Map<string, Map<string, number>>();
  #cursor: Iterator<[string, Map<string, number>]> | undefined;

  take(key: string, member: string, max: number, expiresAtMs: number, nowMs: number): SlotTaken {
    this.#sweep(nowMs);
    const set = this.#sets.get(key) ?? new Map<string, number>();
    prune(set, nowMs);
    if (!set.has(member) && set.size >= max) {
      this.#keep(key, set);
      let first = Number.POSITIVE_INFINITY;
      for (const exp of set.values()) first = Math.min(first, exp);
      return { ok: false, freesAtMs: first };
    }
    set.set(member, Math.max(expiresAtMs, set.get(member) ?? 0));
    this.#sets.set(key, set);
    return { ok: true };
  }

  release(key: string, member: string): void {
    const set = this.#sets.get(key);
    if (!set) return;
    set.delete(member);
    this.#keep(key, set);
  }

  /** Number of keys that hold a set (for tests: sweeping is incremental). */
  get keys(): number {
    return this.#sets.size;
  }

  #keep(key: string, set: Map<string, number>): void {
    if (set.size === 0) this.#sets.delete(key);
  }

  #sweep(nowMs: number): void {
    for (let i = 0; i < 2; i++) {
      this.#cursor ??= this.#sets.entries();
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = undefined;
        return;
      }
      const [key, set] = next.value;
      prune(set, nowMs);
      this.#keep(key, set);
    }
  }
}

function prune(set: Map<string, number>, nowMs: number): void {
  for (const [member, exp] of set) if (exp <= nowMs) set.delete(member);
}

/**
 * The default store: counters in this process only. Limits are per instance (two signers do not
 * share budgets or quotas); use `redisLimitStore` from `@chute/signer/redis` to share them.
 */
export function memoryLimitStore(): LimitStore & { readonly slots: MemorySlots } {
  const limiter = limiterCache((b) => new RateLimiterMemory({ keyPrefix: b.name, points: b.points, duration: b.durationSeconds }));
  const slots = new MemorySlots();
  return {
    slots,
    consume: (budget, key, points) => consumeWith(limiter(budget), key, points),
    async refund(budget, key, points) {
      await limiter(budget).reward(key, points);
    },
    takeSlot: async (key, member, max, expiresAtMs, nowMs) => slots.take(key, member, max, expiresAtMs, nowMs),
    async releaseSlot(key, member) {
      slots.release(key, member);
    },
  };
}
