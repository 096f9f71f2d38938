import { ChuteError } from './errors.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * In-memory token buckets (per instance: N instances allow N× the rate). Idle buckets are dropped
 * once full so memory stays bounded by the number of recently active callers.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;
  readonly #refill: number;
  #lastSweep = 0;

  constructor(capacity: number, refillPerSecond: number) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new TypeError('rate limit needs capacity ≥ 1 and refill > 0');
    this.#capacity = capacity;
    this.#refill = refillPerSecond;
  }

  /** Takes one token for `key`, or throws `rate_limited` with the seconds until one is available. */
  take(key: string, nowMs: number): void {
    this.#sweep(nowMs);
    const b = this.#buckets.get(key) ?? { tokens: this.#capacity, at: nowMs };
    b.tokens = Math.min(this.#capacity, b.tokens + ((nowMs - b.at) / 1000) * this.#refill);
    b.at = nowMs;
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / this.#refill));
      throw new ChuteError('rate_limited', `Too many requests; retry in ${retryAfterSeconds} s.`, {
        details: { retryAfterSeconds },
        headers: { 'retry-after': String(retryAfterSeconds) },
      });
    }
    b.tokens -= 1;
    this.#buckets.set(key, b);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < 10_000 && this.#buckets.size < 100_000) return;
    this.#lastSweep = nowMs;
    const fullAfterMs = (this.#capacity / this.#refill) * 1000;
    for (const [k, b] of this.#buckets) if (nowMs - b.at > fullAfterMs) this.#buckets.delete(k);
  }
}
