import { ChuteError } from '../errors.js';
import { guarded, seconds } from './errors.js';
import type { Budget, LimitStore } from './store.js';

export interface QuotaOptions {
  /** Open multipart uploads per user (0: no limit). */
  maxOpenUploads: number;
  /** Bytes a user may declare at create per day, a fixed 24-h window from their first upload (0: no limit). */
  maxBytesPerDay: number;
}

const DAY = 86_400;

function size(n: number): string {
  for (const [unit, f] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (n >= f) return `${+(n / f).toFixed(2)} ${unit}`;
  return `${n} bytes`;
}

const at = (ms: number) => new Date(ms).toISOString();

/** Per-user quotas on a `LimitStore`: open multipart uploads (slots that expire with the upload token) and bytes per day. */
export class Quotas {
  readonly bytes: Budget | undefined;

  constructor(
    readonly store: LimitStore,
    readonly options: QuotaOptions,
  ) {
    this.bytes = options.maxBytesPerDay > 0 ? { name: 'bytes-day', points: Math.floor(options.maxBytesPerDay), durationSeconds: DAY } : undefined;
  }

  /** Charges `bytes` declared at create; throws `quota_exceeded` when the day's quota would be passed. */
  async chargeBytes(userId: string, bytes: number, nowMs: number): Promise<void> {
    const b = this.bytes;
    if (!b || bytes <= 0) return;
    if (bytes > b.points) {
      throw new ChuteError('quota_exceeded', `This file (${size(bytes)}) is larger than the daily upload quota of ${size(b.points)} per user.`, {
        details: { quota: 'maxBytesPerDay', limit: b.points },
      });
    }
    const r = await guarded(this.store.consume(b, userId, bytes));
    if (r.ok) return;
    const retryAfterSeconds = seconds(r.retryAfterMs);
    throw new ChuteError(
      'quota_exceeded',
      `This upload (${size(bytes)}) would pass the daily upload quota of ${size(b.points)} per user; it frees at ${at(nowMs + r.retryAfterMs)}.`,
      { details: { quota: 'maxBytesPerDay', limit: b.points, retryAfterSeconds }, headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }

  /** Gives back bytes of an upload that was not created after all. */
  async refundBytes(userId: string, bytes: number): Promise<void> {
    if (this.bytes && bytes > 0) await guarded(this.store.refund(this.bytes, userId, bytes));
  }

  /** Counts an open multipart upload (`id`: its key) until `expiresAtMs`; throws `quota_exceeded` when the user has too many. */
  async open(userId: string, id: string, expiresAtMs: number, nowMs: number): Promise<void> {
    const max = this.options.maxOpenUploads;
    if (!(max > 0)) return;
    const r = await guarded(this.store.takeSlot(`open:${userId}`, id, max, expiresAtMs, nowMs));
    if (r.ok) return;
    const retryAfterSeconds = seconds(r.freesAtMs - nowMs);
    throw new ChuteError(
      'quota_exceeded',
      `You have ${max} open multipart uploads, the most allowed per user; complete or abort one, or wait until ${at(r.freesAtMs)} when the oldest expires.`,
      { details: { quota: 'maxOpenUploads', limit: max, retryAfterSeconds }, headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }

  /** The upload completed or was aborted: its slot frees (idempotent). */
  async close(userId: string, id: string): Promise<void> {
    if (this.options.maxOpenUploads > 0) await guarded(this.store.releaseSlot(`open:${userId}`, id));
  }

  /**
   * Opens an upload under both quotas around `create`: the slot and the bytes are taken first and
   * given back if `create` fails, so a refused or failed create costs nothing.
   */
  async around<T>(userId: string, id: string, bytes: number, expiresAtMs: number, nowMs: number, create: () => Promise<T>): Promise<T> {
    await this.open(userId, id, expiresAtMs, nowMs);
    try {
      await this.chargeBytes(userId, bytes, nowMs);
    } catch (err) {
      await this.close(userId, id);
      throw err;
    }
    try {
      return await create();
    } catch (err) {
      await Promise.allSettled([this.close(userId, id), this.refundBytes(userId, bytes)]);
      throw err;
    }
  }
}
