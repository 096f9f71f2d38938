// Rate limits and quotas for the Worker through the signer's LimitStore interface. Isolates of a
// Worker share no memory, so the in-memory store counts per isolate; with a Durable Object
// binding (`LIMITS`) every counter lives in one Durable Object per key (single-threaded, so each
// take is atomic), and every isolate in every location sees the same numbers.
import type { Budget, Consumed, LimitStore, SlotTaken } from '@chute/signer';
import { DurableObject } from 'cloudflare:workers';
import type { DurableObjectNamespaceLike } from './config.js';

interface Storage {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
}

interface Window {
  w: number;
  used: number;
}

/** The Durable Object: `[[durable_objects.bindings]] name = "LIMITS", class_name = "ChuteLimits"`. */
export class ChuteLimits extends DurableObject {
  readonly #storage: Storage;
  constructor(state: { storage: Storage }, env: unknown) {
    super(state, env);
    this.#storage = state.storage;
  }

  async consume(name: string, points: number, durationSeconds: number, key: string, n: number, nowMs: number): Promise<Consumed> {
    const id = `b:${name}:${key}`;
    const len = durationSeconds * 1000;
    const w = Math.floor(nowMs / len);
    const cur = (await this.#storage.get<Window>(id)) ?? { w, used: 0 };
    const used = cur.w === w ? cur.used : 0;
    if (used + n > points) return { ok: false, retryAfterMs: (w + 1) * len - nowMs };
    await this.#storage.put(id, { w, used: used + n });
    return { ok: true };
  }

  async refund(name: string, durationSeconds: number, key: string, n: number, nowMs: number): Promise<void> {
    const id = `b:${name}:${key}`;
    const cur = await this.#storage.get<Window>(id);
    if (cur && cur.w === Math.floor(nowMs / (durationSeconds * 1000))) await this.#storage.put(id, { w: cur.w, used: Math.max(0, cur.used - n) });
  }

  async takeSlot(key: string, member: string, max: number, expiresAtMs: number, nowMs: number): Promise<SlotTaken> {
    const id = `s:${key}`;
    const set = new Map(Object.entries((await this.#storage.get<Record<string, number>>(id)) ?? {}).filter(([, exp]) => exp > nowMs));
    if (set.has(member)) return { ok: true };
    if (set.size >= max) return { ok: false, freesAtMs: Math.min(...set.values()) };
    set.set(member, expiresAtMs);
    await this.#storage.put(id, Object.fromEntries(set));
    return { ok: true };
  }

  async releaseSlot(key: string, member: string): Promise<void> {
    const id = `s:${key}`;
    const set = (await this.#storage.get<Record<string, number>>(id)) ?? {};
    if (!(member in set)) return;
    delete set[member];
    if (Object.keys(set).length) await this.#storage.put(id, set);
    else await this.#storage.delete(id);
  }
}

type Stub = Pick<ChuteLimits, 'consume' | 'refund' | 'takeSlot' | 'releaseSlot'>;

/** A LimitStore over the `LIMITS` namespace (Durable Object RPC): one object per counter key. */
export function durableObjectLimitStore(ns: DurableObjectNamespaceLike, now: () => number = Date.now): LimitStore {
  const stub = (name: string) => ns.get(ns.idFromName(name)) as Stub;
  return {
    consume: (b: Budget, key, points) => stub(`b:${b.name}:${key}`).consume(b.name, b.points, b.durationSeconds, key, points, now()),
    refund: (b: Budget, key, points) => stub(`b:${b.name}:${key}`).refund(b.name, b.durationSeconds, key, points, now()),
    takeSlot: (key, member, max, expiresAtMs, nowMs) => stub(`s:${key}`).takeSlot(key, member, max, expiresAtMs, nowMs),
    releaseSlot: (key, member) => stub(`s:${key}`).releaseSlot(key, member),
  };
}
