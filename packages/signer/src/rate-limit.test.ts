import { expect, test } from 'vitest';
import { ChuteError } from './errors.js';
import { memoryLimitStore } from './limits/memory.js';
import { RateLimits } from './rate-limit.js';

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ChuteError);

test('a burst of capacity passes, then 429 with Retry-After; other keys are not touched', async () => {
  const rl = new RateLimits(memoryLimitStore(), { capacity: 3, refillPerSecond: 1 });
  for (let i = 0; i < 3; i++) await rl.byUser('u');
  const err = await refusal(rl.byUser('u'));
  expect(err).toBeInstanceOf(ChuteError);
  expect(err?.code).toBe('rate_limited');
  expect(err?.headers?.['retry-after']).toMatch(/^[1-3]$/);
  await rl.byUser('other');
  // Per IP: twice the user budget.
  for (let i = 0; i < 6; i++) await rl.byIp('10.0.0.1');
  expect((await refusal(rl.byIp('10.0.0.1')))?.code).toBe('rate_limited');
});

test('each URL costs a point; a refused charge costs nothing; a batch over the whole budget is a 400', async () => {
  const rl = new RateLimits(memoryLimitStore(), { capacity: 100, refillPerSecond: 1 });
  await rl.byUser('u'); // the request
  await rl.urls('u', '10.0.0.1', 90); // its URLs: 91 of 100 used
  expect((await refusal(rl.urls('u', '10.0.0.1', 20)))?.code).toBe('rate_limited');
  await rl.urls('u', '10.0.0.1', 9); // the refused 20 were not taken: 9 still fit
  expect((await refusal(rl.byUser('u')))?.code).toBe('rate_limited');
  const big = await refusal(rl.urls('v', undefined, 100));
  expect(big?.code).toBe('validation_failed');
  expect(big?.details?.maxUrlsPerRequest).toBe(99);
});

test('100,000 distinct callers: a new caller is still served and a flooding one still limited (no sweep over all keys)', async () => {
  const rl = new RateLimits(memoryLimitStore(), { capacity: 3, refillPerSecond: 0.01 });
  for (let i = 0; i < 100_000; i++) await rl.byIp(`ip-${i}`);
  await rl.byIp('fresh');
  for (let i = 0; i < 6; i++) await rl.byIp('flood');
  expect((await refusal(rl.byIp('flood')))?.code).toBe('rate_limited');
  // The first caller's window is still counted: nothing was dropped to make room.
  for (let i = 0; i < 5; i++) await rl.byIp('ip-0');
  expect((await refusal(rl.byIp('ip-0')))?.code).toBe('rate_limited');
});

test('open-upload slots: expired sets are swept a few per call, never all at once', async () => {
  const { slots } = memoryLimitStore();
  for (let i = 0; i < 100_000; i++) slots.take(`user-${i}`, 'upload', 1, 1_000, 0);
  expect(slots.keys).toBe(100_000);
  // All expired now; one call prunes its own set and two others, not 100,000.
  expect(slots.take('someone', 'u1', 1, 10_000, 2_000)).toEqual({ ok: true });
  expect(slots.keys).toBeGreaterThanOrEqual(99_998);
  for (let i = 0; i < 60_000; i++) slots.take('someone', 'u1', 1, 10_000, 2_000);
  expect(slots.keys).toBe(1);
});

test('open-upload slots: at most max live members, the same member twice is one, release frees', () => {
  const { slots } = memoryLimitStore();
  expect(slots.take('u', 'a', 2, 5_000, 0)).toEqual({ ok: true });
  expect(slots.take('u', 'a', 2, 5_000, 0)).toEqual({ ok: true });
  expect(slots.take('u', 'b', 2, 9_000, 0)).toEqual({ ok: true });
  expect(slots.take('u', 'c', 2, 9_000, 0)).toEqual({ ok: false, freesAtMs: 5_000 });
  slots.release('u', 'b');
  expect(slots.take('u', 'c', 2, 9_000, 0)).toEqual({ ok: true });
  // a expires at 5 s: its slot frees by itself.
  expect(slots.take('u', 'd', 2, 9_000, 5_000)).toEqual({ ok: true });
});
