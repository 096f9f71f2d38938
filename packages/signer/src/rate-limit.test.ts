import { expect, test } from 'vitest';
import { ChuteError } from './errors.js';
import { RateLimiter } from './rate-limit.js';

test('a burst of capacity passes, then 429 with retry-after, then refills', () => {
  const rl = new RateLimiter(3, 1);
  for (let i = 0; i < 3; i++) rl.take('u', 0);
  let err: unknown;
  try {
    rl.take('u', 0);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ChuteError);
  expect((err as ChuteError).code).toBe('rate_limited');
  expect((err as ChuteError).headers?.['retry-after']).toBe('1');
  expect(() => rl.take('other', 0)).not.toThrow();
  expect(() => rl.take('u', 1000)).not.toThrow();
});

test('idle buckets are dropped', () => {
  const rl = new RateLimiter(2, 1);
  rl.take('a', 0);
  rl.take('b', 0);
  expect(rl.size).toBe(2);
  rl.take('c', 60_000);
  expect(rl.size).toBe(1);
});
