// Browser-only units in real Chromium: the worker hash pool (known vectors, parallel part CRCs
// combined = one pass), IndexedDB records across store instances, and the XHR stall watchdog.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { setupHarness } from './lib/harness.js';

type H = Awaited<ReturnType<typeof setupHarness>>;
let h: H;
let page: Page;

beforeAll(async () => {
  h = await setupHarness({ proxy: true });
  page = await h.page();
});
afterAll(async () => {
  await h?.close();
});

type Fn = (...args: unknown[]) => Promise<Record<string, unknown>>;
const call = (name: string, ...args: unknown[]) =>
  page.evaluate(([n, a]) => ((globalThis as unknown as { harness: Record<string, Fn> }).harness[n as string] as Fn)(...(a as unknown[])), [
    name,
    args,
  ] as const);

test('worker pool: MD5, CRC64NVME and SHA-256 of a slice match the published check values', async () => {
  const r = await call('hashSelfTest');
  expect(r.check).toEqual({
    size: 9,
    md5: '25f9e794323b453885f5181f1b624d0b',
    crc64nvme: 'ae8b14860a799888',
    sha256: '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
  });
  expect(r.combined).toBe(r.whole); // part CRCs hashed by 2 workers, combined = single pass
  expect(r.sizes).toEqual([1048576, 1048576, 1048576, 17]);
  expect(r.probesDiffer).toBe(true); // the fingerprint probe sees a changed last byte
  expect(r.mergedProbesMatch).toEqual([true, true, true, true, true, true]); // one read: same probe, same digests
  expect(r.poolSize).toBe(Math.max(1, Math.min((r.cores as number) - 1, 4)));
});

test('IndexedDB record store: a record written by one instance is read, listed and deleted by another', async () => {
  expect(await call('recordStoreSelfTest')).toEqual({ same: true, listed: 1, afterDelete: 0 });
});

test('XHR transport: a request with no progress is aborted as stalled', async () => {
  const proxy = h.stack.proxy;
  if (!proxy) throw new Error('no proxy');
  proxy.rate = 1; // one byte per second: the upload cannot progress
  try {
    const r = await call('stallSelfTest', `${proxy.url}/e2e/stall-probe`, 1500);
    expect(r.kind).toBe('stalled');
    expect(r.ms as number).toBeGreaterThanOrEqual(1400);
  } finally {
    proxy.rate = 0;
  }
});
