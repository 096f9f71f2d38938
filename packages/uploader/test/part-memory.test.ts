// A multipart upload keeps per part only what the complete needs (digest, ETag): a stored part's
// signed URL (with its headers) is released while the upload goes on, so a 10,000-part upload does
// not hold 10,000 URLs (the old engine kept them all: this test then found parts 2–6 still held).
// The hasher's promises are checked too (the engine keeps only its own promise of the digest,
// dropped once the part is stored, which a test cannot reach). Checked with weak references and a forced full GC
// (V8's GC is precise: an object no longer referenced is gone after it); no timing is asserted.
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MiB, type PartChecksums } from '@chute/protocol';
import { expect, test } from 'vitest';
import { ChuteEngine } from '../src/engine.js';
import type { HashOptions, PartDigest } from '../src/hash-messages.js';
import { MemoryRecordStore } from '../src/record-store.js';
import type { PutRequest } from '../src/transport.js';
import { FakeBackend, NodeHasher } from './fakes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** True once nothing references the object any more (after the current job, then a full GC). */
async function released(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((r) => setTimeout(r, 0));
  gc();
  return ref.deref() === undefined;
}

test("a stored part's signed URL and the hasher's promise are released before the upload ends; progress stays exact", async () => {
  const PARTS = 8;
  const backend = new FakeBackend();
  const hasher = new NodeHasher();
  // Weak references to what the engine holds per part: the headers object of each signed URL and
  // the hash promise the hasher returned.
  const headersOf = new Map<number, WeakRef<object>>();
  const hashOf = new Map<number, WeakRef<object>>();
  const sign = backend.signParts.bind(backend);
  backend.signParts = async (uploadId: string, token: string, parts: PartChecksums[]) => {
    const res = await sign(uploadId, token, parts);
    for (const p of res.parts) {
      p.headers = { ...p.headers };
      headersOf.set(p.partNumber, new WeakRef(p.headers));
    }
    return res;
  };
  const hashPart = hasher.hashPart.bind(hasher);
  hasher.hashPart = (blob: Blob, start: number, end: number, o: HashOptions): Promise<PartDigest> => {
    const promise = hashPart(blob, start, end, o);
    if (end - start === 5 * MiB) hashOf.set(start / (5 * MiB) + 1, new WeakRef(promise));
    return promise;
  };
  // When the last part is being sent, every earlier part is stored: check what is still held.
  const stillHeld: { headers: number[]; hashes: number[] } = { headers: [], hashes: [] };
  const put = backend.put.bind(backend);
  backend.put = async (req: PutRequest) => {
    const part = Number(new URL(req.url).pathname.split('/')[2]);
    if (part === PARTS) {
      // Part 1 was hashed while create was in flight (kept by the engine until the end, one per
      // lane). The part stored just before this one is not checked: at this instant its URL is
      // still referenced from its finished send (bounded: one per lane, it does not grow).
      for (let n = 2; n < PARTS - 1; n++) {
        if (!(await released(headersOf.get(n) as WeakRef<object>))) stillHeld.headers.push(n);
        if (!(await released(hashOf.get(n) as WeakRef<object>))) stillHeld.hashes.push(n);
      }
    }
    return put(req);
  };
  const engine = new ChuteEngine({
    endpoint: 'http://signer.test',
    signer: backend,
    transport: backend,
    hasher,
    store: new MemoryRecordStore(),
    connectivity: { isOnline: () => true, waitOnline: async () => {} },
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    // One lane: the parts go in order, so parts 1…7 are stored when part 8 is sent.
    concurrency: 1,
    hashAhead: 1,
    signBatchSize: 1,
  });
  const bytes = randomBytes(PARTS * 5 * MiB);
  const upload = engine.add(new File([bytes], 'm.bin', { type: 'application/octet-stream', lastModified: 1_700_000_000_000 }));
  const progress: number[] = [];
  upload.on('progress', (b) => progress.push(b));
  const result = await upload.start();
  engine.destroy();

  expect(result.sentParts).toBe(PARTS);
  expect(result.verifiedBy?.algorithm).toBe('CRC64NVME');
  // The object's address is still part 1's URL without its query, though the URLs were dropped.
  expect(result.location).toMatch(/^fake:\/\/up\/mpu\d+\/1$/);
  expect(headersOf.size).toBe(PARTS);
  expect(hashOf.size).toBe(PARTS);
  expect(stillHeld).toEqual({ headers: [], hashes: [] });
  // Progress from running sums: never backwards, never past the size, and the size at the end.
  expect(progress.every((b, i) => i === 0 || b >= (progress[i - 1] as number))).toBe(true);
  expect(Math.max(...progress)).toBe(bytes.length);
  expect(progress.at(-1)).toBe(bytes.length);
});
