import { describe, expect, test } from 'vitest';
import { backoffDelay, classifyFailure, defaultRetryPolicy, parseS3Error } from './retry.js';
import { Semaphore } from './semaphore.js';

describe('backoffDelay', () => {
  const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  test('grows exponentially with jitter in [ceiling/2, ceiling] and is capped', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(300);
    expect(backoffDelay(policy, 20, () => 1)).toBe(1000);
    expect(backoffDelay(defaultRetryPolicy, 2, () => 0)).toBe(500);
  });
});

describe('classifyFailure', () => {
  test.each([
    [{ kind: 'network' } as const, false, 'retry'],
    [{ kind: 'network' } as const, true, 'resign'],
    [{ kind: 'stalled' } as const, false, 'retry'],
    [{ kind: 'http', status: 503 } as const, false, 'retry'],
    [{ kind: 'http', status: 429 } as const, false, 'retry'],
    [{ kind: 'http', status: 403, code: 'AccessDenied' } as const, false, 'resign'],
    [{ kind: 'http', status: 400, code: 'BadDigest' } as const, false, 'rehash'],
    [{ kind: 'http', status: 400, code: 'InvalidDigest' } as const, false, 'rehash'],
    [{ kind: 'http', status: 400, code: 'EntityTooLarge' } as const, false, 'fail'],
    [{ kind: 'http', status: 404, code: 'NoSuchUpload' } as const, false, 'fail'],
  ])('%j (expired=%s) → %s', (failure, expired, action) => {
    expect(classifyFailure(failure, expired)).toBe(action);
  });

  test('parseS3Error reads Code and Message', () => {
    expect(parseS3Error('<?xml version="1.0"?><Error><Code>BadDigest</Code><Message>nope</Message></Error>')).toEqual(
      { code: 'BadDigest', message: 'nope' },
    );
    expect(parseS3Error('')).toEqual({});
  });
});

describe('Semaphore', () => {
  test('bounds concurrency and hands slots over in FIFO order', async () => {
    const sem = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await sem.acquire();
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        release();
        release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sem.inUse).toBe(0);
  });

  test('an aborted waiter leaves the queue', async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
    expect(sem.inUse).toBe(0);
  });

  test('growing wakes waiters in order; shrinking takes effect as holders release', async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const got: number[] = [];
    const waiters = [1, 2, 3].map((i) => sem.acquire().then((release) => (got.push(i), release)));
    sem.resize(3);
    const [r1, r2] = await Promise.all(waiters.slice(0, 2));
    expect(got).toEqual([1, 2]);
    expect(sem.inUse).toBe(3);
    sem.resize(1);
    first();
    (r1 as () => void)();
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([1, 2]); // still over the new size: no permit handed on
    (r2 as () => void)();
    const r3 = await (waiters[2] as Promise<() => void>);
    expect(got).toEqual([1, 2, 3]);
    expect(sem.inUse).toBe(1);
    r3();
    expect(sem.inUse).toBe(0);
    expect(() => sem.resize(0)).toThrow(RangeError);
  });
});
