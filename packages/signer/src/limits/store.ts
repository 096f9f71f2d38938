/**
 * Where limits and quotas keep their counters. The signer itself stays stateless: with the
 * default in-memory store each instance counts on its own (N instances allow N× the rate); a
 * shared store (`@chute/signer/redis`) makes the numbers hold across every instance.
 */

/** A budget of `points` per fixed window of `durationSeconds`, one counter per key. */
export interface Budget {
  /** Namespace of the budget's counters, e.g. `rate-user`; stable across instances. */
  name: string;
  points: number;
  durationSeconds: number;
}

export type Consumed = { ok: true } | { ok: false; retryAfterMs: number };

export type SlotTaken = { ok: true } | { ok: false; freesAtMs: number };

export interface LimitStore {
  /** Takes `points` from `key`'s budget. A refused take takes nothing (the points stay for smaller requests). */
  consume(budget: Budget, key: string, points: number): Promise<Consumed>;
  /** Gives points back (a charge whose work did not happen). */
  refund(budget: Budget, key: string, points: number): Promise<void>;
  /**
   * Puts `member` in the set `key`, which holds at most `max` members that have not expired;
   * each member lives until its own `expiresAtMs`. Taking a member already in the set is a no-op
   * success. Refused: when the earliest member expires.
   */
  takeSlot(key: string, member: string, max: number, expiresAtMs: number, nowMs: number): Promise<SlotTaken>;
  /** Frees `member` (idempotent). */
  releaseSlot(key: string, member: string): Promise<void>;
  /** Closes connections; the signer never calls it (the store's owner does). */
  close?(): Promise<void>;
}
