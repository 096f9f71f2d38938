// Resume anywhere, against the fake bucket: interrupted uploads listed by `pending()`, continued
// from a kept file handle by `resume(id)` (permission, size/date and part checks), discarded,
// pruned; one uploader per file across "tabs" (engines sharing locks, store and channel).
import { createHash, randomBytes } from 'node:crypto';
import { MiB } from '@chute/protocol';
import { describe, expect, test } from 'vitest';
import { ChuteEngine, type ChuteEngineOptions } from '../src/engine.js';
import type { FileHandleLike } from '../src/handles.js';
import { MemoryRecordStore } from '../src/record-store.js';
import { MemoryLocks, type TabChannel, type TabProgress } from '../src/tabs.js';
import { TransportError } from '../src/transport.js';
import { FakeBackend, NodeHasher } from './fakes.js';

const T0 = 1_700_000_000_000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const online = { isOnline: () => true, waitOnline: async () => {} };

/** A FileSystemFileHandle stand-in: the file can be replaced (edited on disk), permission is a prompt until granted. */
class FakeHandle implements FileHandleLike {
  readonly kind = 'file' as const;
  permission: PermissionState = 'granted';
  answer: PermissionState = 'granted';
  requests = 0;
  constructor(public file: File) {}
  get name() {
    return this.file.name;
  }
  async getFile() {
    return this.file;
  }
  async queryPermission() {
    return this.permission;
  }
  async requestPermission() {
    this.requests++;
    this.permission = this.answer;
    return this.permission;
  }
}

/** A channel shared by the engines of one test (tabs of one origin). */
function sharedChannel(): () => TabChannel {
  const listeners = new Set<(m: TabProgress) => void>();
  return () => {
    const own = new Set<(m: TabProgress) => void>();
    return {
      post: (m) => {
        for (const l of listeners) if (!own.has(l)) l(m);
      },
      subscribe: (l) => {
        own.add(l);
        listeners.add(l);
        return () => listeners.delete(l);
      },
      close: () => undefined,
    };
  };
}

function world() {
  const backend = new FakeBackend();
  const store = new MemoryRecordStore();
  const locks = new MemoryLocks();
  const channel = sharedChannel();
  let now = T0;
  const tab = (overrides: Partial<ChuteEngineOptions> = {}) =>
    new ChuteEngine({
      endpoint: 'http://signer.test',
      signer: backend,
      transport: backend,
      hasher: new NodeHasher(),
      store,
      locks,
      channel: channel(),
      connectivity: online,
      clock: { now: () => now, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) },
      partSize: 5 * MiB,
      multipartThreshold: 5 * MiB,
      concurrency: 1,
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      ...overrides,
    });
  return { backend, store, locks, tab, advance: (ms: number) => (now += ms), now: () => now };
}

const fileOf = (bytes: Uint8Array, name = 'movie.bin', lastModified = T0 - 1000) =>
  new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'application/octet-stream', lastModified });

/** Starts an upload with a handle and "crashes" the tab once `parts` parts are stored (paused for good). */
async function interrupted(w: ReturnType<typeof world>, bytes: Uint8Array, parts = 2) {
  const handle = new FakeHandle(fileOf(bytes));
  const engine = w.tab();
  const up = engine.add(handle.file, { handle });
  up.on('part-uploaded', (n) => n === parts && up.pause());
  void up.start().catch(() => undefined);
  await new Promise((r) => up.on('status', (s) => s === 'paused' && r(undefined)));
  await new Promise((r) => setTimeout(r, 20));
  return { handle, engine, up };
}

describe('resume anywhere (fake bucket)', () => {
  test('pending() lists an interrupted upload with its progress and handle; resume(id) finishes it from the handle', async () => {
    const w = world();
    const bytes = randomBytes(21 * MiB); // 5 parts
    const { handle, up } = await interrupted(w, bytes);
    const tab2 = w.tab();
    w.advance(60_000);
    const [p, ...rest] = await tab2.pending();
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ name: 'movie.bin', size: bytes.length, hasHandle: true, partsDone: 2, bytesDone: 10 * MiB, partCount: 5, resumable: true, ageMs: 60_000 });
    expect(p?.activeIn).toBe('other-tab'); // the first tab still holds the file's lock (paused, not gone)
    expect((await w.tab().pending())[0]?.record.handle).toBe(handle);
    await up.cancel();
    expect(await tab2.pending()).toEqual([]);
  }, 20_000);

  test('after the first tab died, resume(id) asks permission once, keeps stored parts, sends the rest', async () => {
    const w = world();
    const bytes = randomBytes(21 * MiB);
    const handle = new FakeHandle(fileOf(bytes));
    // A tab that dies: its upload never releases anything but the lock (a real crash releases it too).
    const tab1 = w.tab({ locks: new MemoryLocks() });
    const first = tab1.add(handle.file, { handle });
    first.on('part-uploaded', (n) => n === 3 && first.pause());
    void first.start().catch(() => undefined);
    await new Promise((r) => first.on('status', (s) => s === 'paused' && r(undefined)));
    await new Promise((r) => setTimeout(r, 20));

    handle.permission = 'prompt'; // a new browser session: permission must be asked again
    const tab2 = w.tab();
    const [p] = await tab2.pending();
    expect(p?.activeIn).toBeUndefined();
    await expect(tab2.resume(p?.id as string, { requestPermission: false })).rejects.toMatchObject({ code: 'permission_required' });
    const upload = await tab2.resume(p?.id as string);
    expect(handle.requests).toBe(1);
    const kept: number[] = [];
    upload.on('part-kept', (n) => kept.push(n));
    const result = await upload.start();
    expect(kept).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ keptParts: 3, sentParts: 2 });
    expect(sha(w.backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(await tab2.pending()).toEqual([]);
  }, 20_000);

  test('a refused permission says so', async () => {
    const w = world();
    const { handle } = await interruptedElsewhere(w, randomBytes(11 * MiB));
    handle.permission = 'prompt';
    handle.answer = 'denied';
    const tab2 = w.tab();
    const [p] = await tab2.pending();
    await expect(tab2.resume(p?.id as string)).rejects.toMatchObject({ code: 'permission_denied', message: /not allowed/ });
  }, 20_000);

  test('a file changed on disk (date, size, or a part with the same date) is detected; restart starts over only when asked', async () => {
    const w = world();
    const bytes = randomBytes(21 * MiB);
    const { handle } = await interruptedElsewhere(w, bytes);
    const tab2 = w.tab();
    const [p] = await tab2.pending();
    const id = p?.id as string;

    // Same size, newer date.
    handle.file = fileOf(bytes, 'movie.bin', T0 + 5000);
    await expect(tab2.resume(id)).rejects.toMatchObject({ code: 'file_changed', message: /changed on disk.*modified/ });
    // Other size.
    handle.file = fileOf(bytes.subarray(0, 20 * MiB), 'movie.bin', T0 - 1000);
    await expect(tab2.resume(id)).rejects.toMatchObject({ code: 'file_changed', message: /size/ });
    // Same size and date, one byte of part 2 changed (its probe is the same): caught by the part check.
    const edited = Uint8Array.from(bytes);
    edited[7 * MiB] = (edited[7 * MiB] as number) ^ 0xff;
    handle.file = fileOf(edited, 'movie.bin', T0 - 1000);
    const up = await tab2.resume(id);
    await expect(up.start()).rejects.toMatchObject({ code: 'file_changed', message: /part 2 differs/ });
    expect((await tab2.pending()).map((x) => x.id)).toEqual([id]); // nothing was lost or overwritten

    // The user agrees: the old multipart upload is aborted and the file uploaded as it is now.
    const oldUploadId = p?.record.uploadId as string;
    const again = await tab2.resume(id, { restart: true });
    const result = await again.start();
    expect(result.keptParts).toBe(0);
    expect(w.backend.uploads.has(oldUploadId)).toBe(false);
    expect(sha(w.backend.objects.get(result.key) as Uint8Array)).toBe(sha(edited));
    expect(await tab2.pending()).toEqual([]);
  }, 20_000);

  test('two tabs never both send: the second fails in_other_tab or waits, sees progress, and takes over when the first goes', async () => {
    const w = world();
    const bytes = randomBytes(21 * MiB);
    const handle = new FakeHandle(fileOf(bytes));
    w.backend.putDelayMs = 30;
    const tab1 = w.tab();
    const tab2 = w.tab();
    const seen: TabProgress[] = [];
    tab2.on('remote-progress', (m) => seen.push(m));
    const first = tab1.add(handle.file, { handle });
    void first.start().catch(() => undefined);
    await new Promise((r) => first.on('part-uploaded', () => r(undefined)));
    const [p] = await tab2.pending();
    expect(p?.activeIn).toBe('other-tab');
    // Re-selecting the same file in tab 2, resuming or discarding it: refused, nothing sent.
    const dup = tab2.add(fileOf(bytes));
    await expect(dup.start()).rejects.toMatchObject({ code: 'in_other_tab' });
    await expect((await tab2.resume(p?.id as string)).start()).rejects.toMatchObject({ code: 'in_other_tab' });
    await expect(tab2.discard(p?.id as string)).rejects.toMatchObject({ code: 'in_other_tab' });
    expect(w.backend.peak).toBe(1); // concurrency 1 in tab 1: a second sender would show as 2
    expect(seen.some((m) => m.name === 'movie.bin' && m.bytesUploaded > 0 && !m.ended)).toBe(true);

    // Tab 2 waits to take over; tab 1 stops after its second part (as if closed: the lock is
    // released, the record stays).
    const takeover = await tab2.resume(p?.id as string, { waitForOtherTab: true });
    first.on('part-uploaded', (n) => {
      if (n === 2) w.backend.failNext.push(() => new TransportError({ kind: 'http', status: 400, code: 'InvalidArgument' }));
    });
    await expect(first.start()).rejects.toMatchObject({ code: 'part_rejected' });
    const result = await takeover.start();
    expect(result.keptParts).toBeGreaterThanOrEqual(2);
    expect(w.backend.peak).toBe(1);
    expect(sha(w.backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
  }, 20_000);

  test('discard aborts the multipart upload through the signer and forgets it; records past abortAfterDays are dropped', async () => {
    const w = world();
    await interruptedElsewhere(w, randomBytes(11 * MiB), 1);
    await interruptedElsewhere(w, randomBytes(11 * MiB), 1, 'other.bin');
    const tab2 = w.tab();
    const all = await tab2.pending();
    expect(all.map((p) => p.name).sort()).toEqual(['movie.bin', 'other.bin']);
    const victim = all.find((p) => p.name === 'other.bin');
    await tab2.discard(victim?.id as string);
    expect(w.backend.uploads.has(victim?.record.uploadId as string)).toBe(false);
    expect((await tab2.pending()).map((p) => p.name)).toEqual(['movie.bin']);

    w.advance(8 * 86_400_000);
    expect(await w.tab({ abortAfterDays: 10 }).pending()).toHaveLength(1);
    const tab3 = w.tab(); // default abortAfterDays 7: pruned at start
    expect(await tab3.pending()).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await w.store.list()).toEqual([]);
  }, 20_000);

  test('a record without a handle (re-select flow) cannot resume by id, and says how', async () => {
    const w = world();
    const bytes = randomBytes(11 * MiB);
    const tab1 = w.tab({ locks: new MemoryLocks() });
    const first = tab1.add(fileOf(bytes));
    first.on('part-uploaded', () => first.pause());
    void first.start().catch(() => undefined);
    await new Promise((r) => first.on('status', (s) => s === 'paused' && r(undefined)));
    const tab2 = w.tab();
    const [p] = await tab2.pending();
    expect(p?.hasHandle).toBe(false);
    await expect(tab2.resume(p?.id as string)).rejects.toMatchObject({ code: 'not_resumable', message: /select the file again/ });
    // Re-selecting still resumes, as before.
    const result = await tab2.upload(fileOf(bytes));
    expect(result.keptParts).toBe(1);
  }, 20_000);
});

/** An upload interrupted in a tab that is gone (its own lock space), with `parts` parts stored. */
async function interruptedElsewhere(w: ReturnType<typeof world>, bytes: Uint8Array, parts = 2, name = 'movie.bin') {
  const handle = new FakeHandle(fileOf(bytes, name));
  const engine = w.tab({ locks: new MemoryLocks() });
  const up = engine.add(handle.file, { handle });
  up.on('part-uploaded', (n) => n === parts && up.pause());
  void up.start().catch(() => undefined);
  await new Promise((r) => up.on('status', (s) => s === 'paused' && r(undefined)));
  await new Promise((r) => setTimeout(r, 20));
  return { handle };
}
