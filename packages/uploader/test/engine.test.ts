import { createHash, randomBytes } from 'node:crypto';
import { MiB } from '@chute/protocol';
import { describe, expect, test } from 'vitest';
import { ChuteEngine } from '../src/engine.js';
import { MemoryRecordStore } from '../src/record-store.js';
import { TransportError } from '../src/transport.js';
import type { UploadStatus } from '../src/types.js';
import { FakeBackend, NodeHasher } from './fakes.js';

const fileOf = (bytes: Uint8Array, name = 'f.bin') =>
  new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'application/octet-stream', lastModified: 1_700_000_000_000 });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const online = { isOnline: () => true, waitOnline: async () => {} };

function setup(overrides: Partial<ConstructorParameters<typeof ChuteEngine>[0]> = {}) {
  const backend = new FakeBackend();
  const hasher = new NodeHasher();
  const store = new MemoryRecordStore();
  const engine = new ChuteEngine({
    endpoint: 'http://signer.test',
    signer: backend,
    transport: backend,
    hasher,
    store,
    connectivity: online,
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    retry: { maxRetries: 4, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
  return { backend, hasher, store, engine };
}

describe('engine (fake bucket + signer)', () => {
  test.each([0, 1, 5 * MiB - 1, 5 * MiB + 1])('%i bytes land intact and verified', async (size) => {
    const { backend, engine } = setup();
    const bytes = randomBytes(size);
    const upload = engine.add(fileOf(bytes));
    const statuses: UploadStatus[] = [];
    upload.on('status', (s) => statuses.push(s));
    const result = await upload.start();
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(upload.status).toBe('verified');
    expect(statuses.at(-1)).toBe('verified');
    expect(result.verifiedBy?.algorithm).toBe(size > 5 * MiB ? 'CRC64NVME' : 'MD5');
  });

  test("adding and starting many files reads no file's size until it is admitted (Chromium makes the first read a synchronous IPC)", async () => {
    const { backend, engine } = setup();
    let sizeReads = 0;
    // A picked File: its size getter stands for Chromium's synchronous call to the browser process.
    const counted = (bytes: Uint8Array, name: string) => {
      const f = fileOf(bytes, name);
      const size = f.size;
      return Object.defineProperty(f, 'size', {
        get: () => {
          sizeReads++;
          return size;
        },
      });
    };
    const files = Array.from({ length: 40 }, (_, i) => counted(randomBytes(1000 + i), `many-${i}.bin`));
    const uploads = files.map((f) => engine.add(f));
    const runs = uploads.map((u) => u.start());
    expect(uploads.map((u) => u.status)).toEqual(files.map(() => 'hashing'));
    expect(sizeReads).toBe(0); // all 40 added, started and asked their status in one task: none read yet
    const results = await Promise.all(runs);
    expect(results.map((r) => (backend.objects.get(r.key) as Uint8Array).length)).toEqual(files.map((_, i) => 1000 + i));
    const late = engine.add(counted(randomBytes(10), 'late.bin'));
    const before = sizeReads;
    expect(late.state.size).toBe(10); // asked for: read then
    expect(sizeReads).toBe(before + 1);
  });

  test('a store that returns no checksum and an opaque ETag: stored, not-verifiable with a warning, never failed', async () => {
    const { backend, engine } = setup();
    backend.completeAnswer = ({ checksum: _, ...rest }) => ({ ...rest, etag: 'opaque' });
    const events: unknown[] = [];
    const upload = engine.add(fileOf(randomBytes(6 * MiB)));
    upload.on('verification', (v) => events.push(v));
    const result = await upload.start();
    expect(upload.status).toBe('verified');
    expect(result.verification.level).toBe('not-verifiable');
    expect(result.verification.warning).toMatch(/not verifiable/);
    expect(result.verifiedBy).toBeUndefined();
    expect(events).toEqual([result.verification]);
  });

  test("the signer's verification level is reported; a standard multipart ETag is re-checked locally", async () => {
    const { backend, engine } = setup();
    const verification = { level: 'part-checksums-and-etag' as const, checked: ['size from HeadObject'] };
    backend.completeAnswer = ({ checksum: _, ...rest }) => ({ ...rest, verification });
    expect((await engine.upload(fileOf(randomBytes(6 * MiB)))).verification).toEqual(verification);
    backend.completeAnswer = ({ checksum: _, ...rest }) => ({ ...rest, etag: `${'0'.repeat(32)}-2`, verification });
    const err = await engine.upload(fileOf(randomBytes(6 * MiB), 'g.bin')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'verification_failed', message: expect.stringMatching(/multipart ETag .* differs.*The object was removed\.$/) });
    expect(backend.discards).toEqual([{ token: expect.stringMatching(/^tok-/), etag: `${'0'.repeat(32)}-2` }]);
    expect(backend.objects.has('u/g.bin')).toBe(false);
  });

  test('a checksum the store returned that differs fails the upload and removes the object', async () => {
    const { backend, engine } = setup();
    backend.completeAnswer = (res) => ({ ...res, checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: 'AAAAAAAAAAA=' } });
    const err = await engine.upload(fileOf(randomBytes(6 * MiB))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'verification_failed', options: { details: { removed: true } } });
    expect(backend.objects.size).toBe(0);
  });

  test('many small files: a multiplexed store (HTTP/2) raises the requests in flight, HTTP/1.1 keeps 5, a chosen concurrency wins', async () => {
    const files = () => Array.from({ length: 40 }, (_, i) => fileOf(randomBytes(1024), `s${i}.bin`));
    for (const [hint, overrides, expected] of [
      [true, {}, 12],
      [undefined, {}, 5],
      [false, {}, 5],
      [true, { concurrency: 3 }, 3],
    ] as const) {
      const { backend, engine } = setup({ multiplexedConcurrency: 12, ...overrides });
      backend.storeMultiplexed = hint;
      backend.putDelayMs = 30;
      const results = await Promise.all(files().map((f) => engine.upload(f)));
      expect(results.every((r) => r.verifiedBy?.algorithm === 'CRC64NVME' || r.verifiedBy?.algorithm === 'MD5')).toBe(true);
      expect(backend.objects.size).toBe(40);
      expect({ hint, peak: backend.peak }).toEqual({ hint, peak: expected });
    }
  });

  test('files are prepared in the order they came, a bounded number ahead of the store', async () => {
    const { backend, engine } = setup({ concurrency: 2 });
    backend.putDelayMs = 20;
    const names = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}.bin`);
    await Promise.all(names.map((n) => engine.upload(fileOf(randomBytes(2048), n))));
    expect(backend.creates.map((c) => c.name)).toEqual(names);
    // Admission is 2 × concurrency: no create runs more than 4 files ahead of the PUTs started.
    for (const [i, c] of backend.creates.entries()) expect(i - c.putsStarted).toBeLessThanOrEqual(4);
  });

  test('parts go in parallel, signed in batches, bounded by concurrency', async () => {
    const { backend, engine } = setup({ concurrency: 3 });
    backend.putDelayMs = 40;
    const bytes = randomBytes(31 * MiB);
    const result = await engine.upload(fileOf(bytes));
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(backend.peak).toBe(3);
    expect(engine.inFlight.peak).toBe(3);
    expect(backend.signCalls.length).toBeLessThan(7); // 7 parts, fewer signer calls
    expect(result.sentParts).toBe(7);
  });

  test('URLs are signed ahead of the lanes, one signer call at a time, no part signed twice', async () => {
    const { backend, engine } = setup({ concurrency: 2 });
    backend.putDelayMs = 80; // slower than hashing a part, so lanes wait on nothing but the signer
    // A timeline of sign calls (issued, answered) and PUTs (started, done).
    const log: string[] = [];
    let signing = 0;
    let maxSigning = 0;
    const sign = backend.signParts.bind(backend);
    backend.signParts = async (...args: Parameters<typeof sign>) => {
      maxSigning = Math.max(maxSigning, ++signing);
      const numbers = args[2].map((p) => p.partNumber);
      await new Promise((r) => setTimeout(r, 10));
      try {
        return await sign(...args);
      } finally {
        signing--;
        log.push(`signed ${numbers.join(',')}`);
      }
    };
    const put = backend.put.bind(backend);
    backend.put = async (req) => {
      const n = new URL(req.url).pathname.split('/')[2];
      log.push(`put ${n}`);
      try {
        return await put(req);
      } finally {
        log.push(`done ${n}`);
      }
    };
    const bytes = randomBytes(14 * 5 * MiB);
    const result = await engine.upload(fileOf(bytes));
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(result.sentParts).toBe(14);
    const signed = backend.signCalls.flat();
    expect(signed.sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1)); // each part once
    expect(maxSigning).toBe(1);
    // Part n goes out when the (n - 2)th PUT is done (two lanes): by then its URL must be waiting,
    // for every part after those the first call signed.
    const first = backend.signCalls[0] as number[];
    for (let n = 1; n <= 14; n++) {
      if (n <= 2 || first.includes(n)) continue;
      const signedAt = log.findIndex((e) => e.startsWith('signed ') && e.slice(7).split(',').includes(String(n)));
      const freed = log.map((e, i) => [e, i] as const).filter(([e]) => e.startsWith('done '))[n - 3]?.[1] ?? -1;
      expect(signedAt, `part ${n} was not signed before a lane was free for it:\n${log.join('\n')}`).toBeLessThan(freed);
    }
  });

  test('parts hashed while create is in flight are used when the signer chose the predicted part size, rehashed when not', async () => {
    for (const chosen of [undefined, 6 * MiB]) {
      const { backend, hasher, engine } = setup({ concurrency: 3 });
      const create = backend.create.bind(backend);
      let hashedBeforeAnswer = -1;
      backend.create = async (req) => {
        await new Promise((r) => setTimeout(r, 50));
        hashedBeforeAnswer = hasher.calls.length;
        return create(chosen ? { ...req, partSize: chosen } : req);
      };
      const bytes = randomBytes(31 * MiB);
      const result = await engine.upload(fileOf(bytes));
      expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
      expect(hashedBeforeAnswer).toBe(3); // one part per lane, at the predicted 5 MiB
      const parts = chosen ? 6 : 7;
      expect(result.sentParts).toBe(parts);
      // Predicted right: nothing hashed twice; wrong: the early hashes are dropped.
      expect(hasher.calls.length).toBe(parts + (chosen ? 3 : 0));
    }
  });

  test('parts are queued for hashing in part order (a lane asks for its own part before its read-ahead)', async () => {
    const { hasher, engine } = setup({ concurrency: 3 });
    await engine.upload(fileOf(randomBytes(31 * MiB)));
    const starts = hasher.calls.map((c) => c.start);
    // The pool hashes FIFO: part 1 queued after the read-ahead would be hashed (and sent) last.
    expect(starts).toEqual(Array.from({ length: 7 }, (_, i) => i * 5 * MiB));
  });

  test('network errors, 5xx and stalls are retried; an expired URL is re-signed', async () => {
    const { backend, engine } = setup({ stallTimeoutMs: 50 });
    backend.failNext.push(
      () => new TransportError({ kind: 'network' }),
      () => new TransportError({ kind: 'http', status: 503, code: 'SlowDown' }),
      () => 'hang',
    );
    const bytes = randomBytes(12 * MiB);
    const upload = engine.add(fileOf(bytes));
    const reasons: string[] = [];
    upload.on('retry', (r) => reasons.push(r.reason));
    backend.urlTtlMs = 20_000; // shorter than the 30 s margin: URLs must still be used, not re-signed forever
    const result = await upload.start();
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(reasons.some((r) => r.includes('network'))).toBe(true);
    expect(reasons.some((r) => r.includes('503'))).toBe(true);
    expect(reasons.some((r) => r.includes('stalled'))).toBe(true);
  });

  test('a 403 past expiry re-signs the part', async () => {
    const { backend, engine } = setup({ urlExpiryMarginMs: 0 });
    let first = true;
    backend.failNext.push(() => {
      if (!first) return undefined;
      first = false;
      return new TransportError({ kind: 'http', status: 403, code: 'AccessDenied', message: 'Request has expired' });
    });
    const bytes = randomBytes(6 * MiB);
    const upload = engine.add(fileOf(bytes));
    const reasons: string[] = [];
    upload.on('retry', (r) => reasons.push(r.reason));
    await upload.start();
    expect(reasons.some((r) => r.startsWith('resign'))).toBe(true);
    expect(backend.signCalls.length).toBeGreaterThanOrEqual(2);
  });

  test('a part corrupted after hashing is rejected, re-read, re-hashed and re-sent', async () => {
    let corrupted = 0;
    const bytes = randomBytes(12 * MiB);
    // The byte flipped, not overwritten: writing a fixed value left the part intact when the random byte already had it (1 in 256 runs).
    const flipped = new Uint8Array([(bytes[5 * MiB + 10] as number) ^ 0xff]);
    const { backend, engine, hasher } = setup({
      testHooks: {
        partBody: ({ partNumber, attempt }, body) => {
          if (partNumber !== 2 || attempt !== 1) return body;
          corrupted++;
          return new Blob([body.slice(0, 10), flipped, body.slice(11)]);
        },
      },
    });
    const result = await engine.upload(fileOf(bytes));
    expect(corrupted).toBe(1);
    expect(hasher.calls.filter((c) => c.start === 5 * MiB).length).toBe(2);
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
  });

  test('the signer being down for a while is ridden out', async () => {
    const { backend, engine } = setup();
    backend.signerDown = 3;
    const bytes = randomBytes(11 * MiB);
    const result = await engine.upload(fileOf(bytes));
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
  });

  test('pause stops sending, resume finishes', async () => {
    const { backend, engine } = setup({ concurrency: 1 });
    const bytes = randomBytes(16 * MiB);
    const upload = engine.add(fileOf(bytes));
    let paused = false;
    upload.on('part-uploaded', (n) => {
      if (n === 1 && !paused) {
        paused = true;
        upload.pause();
        setTimeout(() => {
          expect(upload.status).toBe('paused');
          upload.resume();
        }, 30);
      }
    });
    const result = await upload.start();
    expect(paused).toBe(true);
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
  });

  test('cancel aborts the multipart upload and forgets the record', async () => {
    const { backend, engine, store } = setup({ concurrency: 1 });
    const upload = engine.add(fileOf(randomBytes(16 * MiB)));
    upload.on('part-uploaded', () => void upload.cancel());
    await expect(upload.start()).rejects.toMatchObject({ code: 'canceled' });
    await new Promise((r) => setTimeout(r, 20));
    expect(backend.uploads.size).toBe(0);
    expect(await store.list()).toEqual([]);
    expect(upload.status).toBe('failed');
  });

  test('verified resume: kept parts are checked against local MD5s, changed ones re-sent', async () => {
    const { backend, engine, store, hasher } = setup({ concurrency: 1 });
    const bytes = randomBytes(21 * MiB); // 5 parts
    const first = engine.add(fileOf(bytes));
    first.on('part-uploaded', (n) => {
      if (n === 3) first.pause(); // "reload": the page goes away with parts 1-3 stored
    });
    void first.start();
    await new Promise((r) => first.on('status', (s) => s === 'paused' && r(undefined)));
    await new Promise((r) => setTimeout(r, 20));
    const [record] = await store.list();
    expect(record).toBeDefined();
    // Someone else's bytes in part 2 (the bucket must not be trusted blindly).
    const mpu = backend.uploads.get(record?.uploadId as string);
    mpu?.parts.set(2, randomBytes(5 * MiB));

    const engine2 = new ChuteEngine({
      endpoint: 'http://signer.test', signer: backend, transport: backend, hasher, store, connectivity: online,
      partSize: 5 * MiB, multipartThreshold: 5 * MiB,
    });
    const again = engine2.add(fileOf(bytes));
    const kept: number[] = [];
    again.on('part-kept', (n) => kept.push(n));
    const result = await again.start();
    expect(kept.sort()).toEqual([1, 3]);
    expect(result.keptParts).toBe(2);
    expect(result.sentParts).toBe(3);
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
    expect(await store.list()).toEqual([]);
  });

  test('a 4xx that retrying cannot fix fails with a clear error', async () => {
    const { backend, engine } = setup();
    backend.failNext.push(() => new TransportError({ kind: 'http', status: 400, code: 'EntityTooLarge', message: 'too big' }));
    const upload = engine.add(fileOf(randomBytes(100)));
    await expect(upload.start()).rejects.toMatchObject({ code: 'part_rejected' });
    expect(upload.state.error?.message).toMatch(/EntityTooLarge/);
  });

  test.each([
    ['hash worker error: failed to load', 'hashing_failed', /wasm-unsafe-eval/],
    ['hashing failed: NotReadableError: The file could not be read', 'file_unreadable', /changed, moved or deleted/],
  ])('a hashing failure (%s) fails as %s with a useful sentence', async (message, code, sentence) => {
    const hasher = new NodeHasher();
    hasher.probe = async () => {
      throw new Error(message);
    };
    const { engine } = setup({ hasher });
    const upload = engine.add(fileOf(randomBytes(10)));
    await expect(upload.start()).rejects.toMatchObject({ code });
    expect(upload.state.error?.message).toMatch(sentence);
  });

  test('a record store that fails (storage blocked or full) costs resumability, not the upload', async () => {
    const broken = {
      get: async () => Promise.reject(new Error('blocked')),
      put: async () => Promise.reject(new Error('QuotaExceededError')),
      delete: async () => Promise.reject(new Error('blocked')),
      list: async () => Promise.reject(new Error('blocked')),
    };
    const { backend, engine } = setup({ store: broken });
    const bytes = randomBytes(11 * MiB);
    const result = await engine.upload(fileOf(bytes));
    expect(sha(backend.objects.get(result.key) as Uint8Array)).toBe(sha(bytes));
  });
});
