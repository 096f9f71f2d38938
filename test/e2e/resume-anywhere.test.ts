// Resume anywhere, in real Chromium: the file's handle (here from the origin-private file system;
// a headless browser shows no picker) is kept in IndexedDB with the upload's record, so after the
// browser is SIGKILLed and started again on the same profile, engine.pending() lists the upload
// and engine.resume(id) goes on without anyone choosing the file. Also: a file changed between
// sessions is detected (and started over only when asked); two tabs never both send.
import { createHash } from 'node:crypto';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildHarnessPage } from './lib/build.js';
import { MiB } from './lib/files.js';
import { type KillableBrowser, launchKillable, settled, tempProfile } from './lib/killable-browser.js';
import { type Stack, startStack } from './lib/stack.js';
import { rmSync } from 'node:fs';

let stack: Stack;
let staticDir: string;
const profiles: { remove(): void }[] = [];
const browsers: KillableBrowser[] = [];

beforeAll(async () => {
  staticDir = await buildHarnessPage();
  stack = await startStack({ staticDir, proxy: true });
});
afterAll(async () => {
  for (const b of browsers) await b.close();
  await stack?.close();
  for (const p of profiles) p.remove();
  if (staticDir) rmSync(staticDir, { recursive: true, force: true });
});

/** SHA-256 of the harness page's xorshift32 stream (page/resume.ts `fill`). */
function streamSha256(size: number, seed: number, poke?: { offset: number; value: number }): string {
  const hash = createHash('sha256');
  const words = new Uint32Array(MiB / 4);
  let x = seed;
  for (let done = 0; done < size; done += MiB) {
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    const bytes = new Uint8Array(words.buffer, 0, Math.min(MiB, size - done));
    if (poke && poke.offset >= done && poke.offset < done + MiB) {
      const copy = Uint8Array.from(bytes);
      copy[poke.offset - done] = poke.value;
      hash.update(copy);
    } else hash.update(bytes);
  }
  return hash.digest('hex');
}

type Outcome = { ok: boolean; result?: { key: string; keptParts: number; sentParts: number }; error?: { code: string; message: string } };
type Pending = { id: string; name: string; size: number; bytesDone: number; partsDone: number; partCount: number; ageMs: number; hasHandle: boolean; activeIn?: string; resumable: boolean };
type RH = {
  resumeHarness: {
    log: { uploaded: number[]; kept: number[]; remote: { name: string; bytesUploaded: number; ended: boolean }[] };
    opfsWrite(name: string, size: number, seed: number): Promise<{ size: number; lastModified: number }>;
    opfsPoke(name: string, offset: number): Promise<void>;
    startOpfs(name: string, o?: unknown): Promise<void>;
    pending(o?: unknown): Promise<Pending[]>;
    resume(id: string, o?: unknown): Promise<Outcome>;
    wait(): Promise<Outcome>;
  };
};
const rh = (page: Page) => ({
  write: (name: string, size: number, seed: number) => page.evaluate(([n, s, x]) => (globalThis as unknown as RH).resumeHarness.opfsWrite(n as string, s as number, x as number), [name, size, seed]),
  poke: (name: string, offset: number) => page.evaluate(([n, o]) => (globalThis as unknown as RH).resumeHarness.opfsPoke(n as string, o as number), [name, offset]),
  start: (name: string, o: unknown) => page.evaluate(([n, opts]) => (globalThis as unknown as RH).resumeHarness.startOpfs(n as string, opts), [name, o] as const),
  pending: () => page.evaluate(() => (globalThis as unknown as RH).resumeHarness.pending()),
  resume: (id: string, o: unknown = {}) => page.evaluate(([i, opts]) => (globalThis as unknown as RH).resumeHarness.resume(i as string, opts), [id, o] as const),
  wait: () => page.evaluate(() => (globalThis as unknown as RH).resumeHarness.wait()),
  log: () => page.evaluate(() => (globalThis as unknown as RH).resumeHarness.log),
});

async function open(b: KillableBrowser, page?: Page): Promise<Page> {
  const p = page ?? b.page;
  p.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
  await p.goto(`${stack.origin}/index.html`);
  await p.waitForFunction(() => 'resumeHarness' in globalThis, undefined, { timeout: 10_000 });
  return p;
}

/** Part numbers of the PUTs a page started (presigned UploadPart URLs carry partNumber). */
function partPuts(page: Page): number[] {
  const parts: number[] = [];
  page.on('request', (req: Request) => {
    if (req.method() !== 'PUT') return;
    const n = new URL(req.url()).searchParams.get('partNumber');
    if (n) parts.push(Number(n));
  });
  return parts;
}

async function launch(profile: string): Promise<KillableBrowser> {
  const b = await launchKillable(profile);
  browsers.push(b);
  return b;
}

describe('resume anywhere (Chromium, SIGKILL, same profile)', () => {
  test('browser SIGKILLed at ~50% of 200 MiB, restarted: resumes from the kept handle, ≤ 1 part per slot sent again, same bytes', async () => {
    const proxy = stack.proxy as NonNullable<Stack['proxy']>;
    const size = 200 * MiB;
    const seed = 0x9e3779b9;
    const concurrency = 4;
    const profile = tempProfile();
    profiles.push(profile);

    let b = await launch(profile.dir);
    let page = await open(b);
    await rh(page).write('big.bin', size, seed);
    const before = partPuts(page);
    proxy.rate = 40 * MiB;
    const t0 = Date.now();
    await rh(page).start('big.bin', { concurrency });
    // ~50% stored (40 parts of 5 MiB), then the whole browser dies.
    await expect.poll(() => stack.uploadedParts('big.bin'), { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(20);
    const tKill = Date.now();
    await b.kill();
    // Bytes already handed to the kernel still reach the bucket: count once that has drained.
    const storedAtKill = await settled(() => stack.uploadedParts('big.bin'));
    const sentBefore = new Set(before);
    expect(sentBefore.size).toBeGreaterThanOrEqual(storedAtKill); // every stored part was seen leaving

    const t1 = Date.now();
    b = await launch(profile.dir);
    page = await open(b);
    const tUp = Date.now();
    const [p, ...others] = await rh(page).pending();
    expect(others).toEqual([]);
    expect(p).toMatchObject({ name: 'big.bin', size, hasHandle: true, partCount: 40, resumable: true });
    expect(p?.activeIn).toBeUndefined();
    // Saved once per stored part: the record knows about as much as the bucket does.
    expect(p?.partsDone).toBeGreaterThanOrEqual(storedAtKill - concurrency);
    const after = partPuts(page);
    proxy.rate = 0;
    const out = await rh(page).resume(p?.id as string, { concurrency });
    const tDone = Date.now();
    expect(out.error).toBeUndefined();
    const result = out.result as NonNullable<Outcome['result']>;
    const again = [...new Set(after)].filter((n) => sentBefore.has(n));
    console.log(
      `[resume-anywhere] 200 MiB: SIGKILL after ${((tKill - t0) / 1000).toFixed(1)} s with ${storedAtKill}/40 parts stored (record: ${p?.partsDone}); ` +
        `restart ${((tUp - t1) / 1000).toFixed(1)} s; resumed in ${((tDone - tUp) / 1000).toFixed(1)} s: kept ${result.keptParts}, sent ${result.sentParts}, ` +
        `parts sent in both sessions ${again.length} (${again.join(',')}), concurrency ${concurrency}; PUTs seen ${before.length} + ${after.length}`,
    );
    expect(result.keptParts).toBe(storedAtKill);
    expect(result.keptParts + result.sentParts).toBe(40);
    expect(again.length).toBeLessThanOrEqual(concurrency);
    expect(sentBefore.size + result.sentParts).toBeLessThanOrEqual(40 + concurrency);
    expect((await rh(page).log()).kept.length).toBe(storedAtKill);
    expect(await stack.objectSha256(result.key)).toBe(streamSha256(size, seed));
    expect(await rh(page).pending()).toEqual([]);
    expect((await stack.openUploads()).filter((k) => k.includes('big.bin'))).toEqual([]);
    await b.close();
  });

  test('a file modified between sessions is detected; it is started over only when asked', async () => {
    const proxy = stack.proxy as NonNullable<Stack['proxy']>;
    const size = 30 * MiB;
    const seed = 12345;
    const profile = tempProfile();
    profiles.push(profile);
    let b = await launch(profile.dir);
    let page = await open(b);
    await rh(page).write('edited.bin', size, seed);
    proxy.rate = 20 * MiB;
    await rh(page).start('edited.bin', { concurrency: 2 });
    await expect.poll(() => stack.uploadedParts('edited.bin'), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    await b.kill();
    proxy.rate = 0;

    b = await launch(profile.dir);
    page = await open(b);
    // Edited on disk while the browser was closed: one byte in part 1, same size, new date.
    await new Promise((r) => setTimeout(r, 20));
    await rh(page).poke('edited.bin', 1000);
    const [p] = await rh(page).pending();
    const refused = await rh(page).resume(p?.id as string);
    expect(refused.error?.code).toBe('file_changed');
    expect(refused.error?.message).toMatch(/edited\.bin changed on disk since the upload began \(modified/);
    expect((await rh(page).pending()).map((x) => x.id)).toEqual([p?.id]); // kept until the user decides
    const uploadId = (await stack.openUploads()).filter((k) => k.includes('edited.bin'));
    expect(uploadId).toHaveLength(1);

    const out = await rh(page).resume(p?.id as string, { restart: true });
    expect(out.error).toBeUndefined();
    expect(out.result?.keptParts).toBe(0);
    expect(await stack.objectSha256(out.result?.key as string)).toBe(streamSha256(size, seed, { offset: 1000, value: 0x42 }));
    // The old multipart upload was aborted through the signer, the new one completed.
    expect((await stack.openUploads()).filter((k) => k.includes('edited.bin'))).toEqual([]);
    await b.close();
  });

  test('two tabs: the second never sends while the first uploads, sees its progress, takes over when it closes', async () => {
    const proxy = stack.proxy as NonNullable<Stack['proxy']>;
    const size = 40 * MiB;
    const seed = 777;
    const profile = tempProfile();
    profiles.push(profile);
    const b = await launch(profile.dir);
    const tabA = await open(b);
    await rh(tabA).write('shared.bin', size, seed);
    proxy.rate = 10 * MiB;
    const putsA = partPuts(tabA);
    await rh(tabA).start('shared.bin', { concurrency: 2 });
    await expect.poll(() => stack.uploadedParts('shared.bin'), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(1);

    const tabB = await open(b, await b.context.newPage());
    const putsB = partPuts(tabB);
    const [p] = await rh(tabB).pending();
    expect(p?.activeIn).toBe('other-tab');
    const refused = await rh(tabB).resume(p?.id as string);
    expect(refused.error?.code).toBe('in_other_tab');
    // Tab B waits for tab A's lock; meanwhile it only watches.
    await rh(tabB).resume(p?.id as string, { waitForOtherTab: true, background: true });
    await expect.poll(async () => (await rh(tabB).log()).remote.filter((m) => m.name === 'shared.bin' && m.bytesUploaded > 0).length, { timeout: 10_000 }).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(putsB).toEqual([]);
    const sentByA = putsA.length;
    expect(sentByA).toBeGreaterThan(0);

    await tabA.close(); // the lock goes with the tab
    proxy.rate = 0;
    const out = await rh(tabB).wait();
    expect(out.error).toBeUndefined();
    expect(out.result?.keptParts).toBeGreaterThanOrEqual(1);
    expect(putsB.length).toBeGreaterThan(0);
    expect(await stack.objectSha256(out.result?.key as string)).toBe(streamSha256(size, seed));
    await b.close();
  });
});
