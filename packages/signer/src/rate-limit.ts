import { ChuteError } from './errors.js';
import { guarded, seconds } from './limits/errors.js';
import type { RateLimitOptions } from './config.js';
import type { Budget, LimitStore } from './limits/store.js';

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { capacity: 600, refillPerSecond: 60 };

/**
 * Rate limits per user and per IP in points, on a `LimitStore` (fixed windows from
 * rate-limiter-flexible): O(1) per request at any number of callers; shared across instances
 * when the store is.
 */
export class RateLimits {
  readonly user: Budget;
  readonly ip: Budget;

  constructor(
    readonly store: LimitStore,
    options: RateLimitOptions,
  ) {
    if (!(options.capacity >= 1) || !(options.refillPerSecond > 0)) throw new TypeError('rate limit needs capacity ≥ 1 and refillPerSecond > 0');
    const capacity = Math.floor(options.capacity);
    const durationSeconds = Math.max(1, Math.ceil(capacity / options.refillPerSecond));
    this.user = { name: 'rate-user', points: capacity, durationSeconds };
    this.ip = { name: 'rate-ip', points: capacity * 2, durationSeconds };
  }

  /** One request from `ip` (before authentication). */
  byIp(ip: string, points = 1): Promise<void> {
    return this.#take(this.ip, ip, points, 'this IP address');
  }

  /** One request of `userId` (after authentication). */
  byUser(userId: string, points = 1): Promise<void> {
    return this.#take(this.user, userId, points, 'this user');
  }

  /** `urls` presigned URLs for one request: charged to the user and the IP. */
  async urls(userId: string, ip: string | undefined, urls: number): Promise<void> {
    if (urls <= 0) return;
    if (urls >= this.user.points) {
      const most = this.user.points - 1;
      throw new ChuteError(
        'validation_failed',
        `This request signs ${urls} URLs, more than the whole rate budget of ${this.user.points} per user every ${this.user.durationSeconds} s; sign at most ${most} per request.`,
        { details: { issues: [{ path: 'parts', message: `at most ${most} URLs per request` }], maxUrlsPerRequest: most } },
      );
    }
    await this.byUser(userId, urls);
    if (ip) {
      try {
        await this.byIp(ip, urls);
      } catch (err) {
        // The request did not happen: give the user their points back.
        await guarded(this.store.refund(this.user, userId, urls));
        throw err;
      }
    }
  }

  async #take(budget: Budget, key: string, points: number, who: string): Promise<void> {
    const r = await guarded(this.store.consume(budget, key, points));
    if (r.ok) return;
    const retryAfterSeconds = seconds(r.retryAfterMs);
    throw new ChuteError('rate_limited', `Too many requests from ${who}; retry in ${retryAfterSeconds} s.`, {
      details: { retryAfterSeconds },
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}
