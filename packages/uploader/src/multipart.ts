// Multipart pipeline: find or create the multipart upload, hash parts in workers ahead of the
// network, sign them in batches, send them in parallel lanes, then complete and verify.
import { choosePartSize, DEFAULT_PART_SIZE, type MultipartUploadResponse, partCount, partRange, type StoredPart } from '@chute/protocol';
import { hexToBase64, normalizeEtag } from './encoding.js';
import { fileChangedError, UploaderError } from './errors.js';
import type { HashOptions, PartDigest } from './hash-messages.js';
import type { UploadRecord } from './record-store.js';
import { type SendTarget, type SignedTarget, sendWithRecovery, signedTarget } from './send.js';
import type { UploadResult } from './types.js';
import type { UploadDriver } from './upload.js';
import { localChecksum, localMultipartEtag, type Verified, verifyMultipart } from './verify.js';

/**
 * Per-part state. Every field exists from the start (one object shape for all parts). Once a part
 * is stored, only what the complete needs stays (its digest and ETag): its signed URL and hash
 * promise are dropped, so a 10,000-part upload does not keep 10,000 URLs alive.
 */
interface Part {
  partNumber: number;
  start: number;
  end: number;
  size: number;
  hash: Promise<PartDigest> | undefined;
  digest: PartDigest | undefined;
  signed: SignedTarget | undefined;
  /** Its URL was handed to a lane's PUT (so it is no longer one waiting to be sent). */
  taken: boolean;
  etag: string | undefined;
  loaded: number;
}

/** Longest wait of the second lane for the first one's head start (the k-th waits k times this). */
const STAGGER_MAX_MS = 500;

const hashOptionsOf = (algorithm: string): HashOptions => ({
  md5: true,
  crc64nvme: algorithm === 'CRC64NVME',
  sha256: algorithm === 'SHA256',
});

export async function runMultipart(
  d: UploadDriver,
  handle: { abortRemote: (() => Promise<void>) | undefined },
): Promise<UploadResult> {
  const { ctx, file } = d;
  const { options } = ctx;
  const { record, stored, early } = await openUpload(d);
  handle.abortRemote = async () => {
    await ctx.signer.abort(record.uploadId, record.token).catch(() => undefined);
  };
  d.setKey(record.key);

  const parts: Part[] = [];
  for (let n = 1; n <= record.partCount; n++) {
    const r = partRange(n, record.partSize, file.size);
    parts.push({ partNumber: r.partNumber, start: r.start, end: r.end, size: r.size, hash: undefined, digest: undefined, signed: undefined, taken: false, etag: undefined, loaded: 0 });
  }
  const laneCount = Math.min(options.concurrency, parts.length);
  // Hashing runs far enough ahead that signing ahead always finds hashed parts to sign.
  const readAhead = Math.max(options.hashAhead, 2 * laneCount + options.signBatchSize);
  // Signed URLs kept waiting for the lanes: a sign call goes out below this many.
  const signAheadTarget = 2 * laneCount;
  let done = 0;
  let kept = 0;
  let keptBytes = 0;
  let sent = 0;
  // Bytes stored (parts with an ETag) and bytes on the wire of the parts in flight, kept as running
  // sums: progress is reported many times per part, and summing every part each time made a
  // 10,000-part upload cost O(parts²) on the main thread (measured: ~65 s of CPU in the engine alone).
  let storedBytes = 0;
  let loadingBytes = 0;
  // The object's address (part 1's URL without its query), kept as a string: the URLs themselves are dropped.
  let location = '';
  /** A part is stored: count it, and drop what only sending it needed. */
  const markStored = (p: Part, etag: string) => {
    p.etag = etag;
    storedBytes += p.size;
    loadingBytes -= p.loaded;
    p.loaded = 0;
    p.signed = undefined;
    p.hash = undefined;
    p.taken = false;
  };
  // Staggered lanes: lane k sends its first part once this session has sent k / lanes of a part
  // (or after k × STAGGER_MAX_MS), so the lanes' idle round trips between parts (preflight,
  // answer) fall at different times instead of leaving the link idle all at once.
  const staggered: Array<{ need: number; release: () => void }> = [];
  const report = () => {
    const bytes = storedBytes + loadingBytes;
    d.progress(bytes);
    d.setParts(done, parts.length);
    for (let i = staggered.length - 1; i >= 0; i--) {
      const w = staggered[i] as (typeof staggered)[number];
      if (bytes - keptBytes >= w.need) {
        staggered.splice(i, 1);
        w.release();
      }
    }
  };
  const staggerStart = async (k: number) => {
    if (k === 0 || failed) return;
    let release = () => {};
    const reached = new Promise<void>((resolve) => {
      release = resolve;
    });
    staggered.push({ need: (k * record.partSize) / laneCount, release });
    report();
    await Promise.race([reached, ctx.clock.sleep(k * STAGGER_MAX_MS, d.signal).catch(() => undefined)]);
    const i = staggered.findIndex((w) => w.release === release);
    if (i >= 0) staggered.splice(i, 1);
  };
  // Progress goes into the record once per stored part (the "% done" of an interrupted upload).
  // Saves are chained, and stop before the record is deleted at the end.
  let saving: Promise<void> = Promise.resolve();
  let saved = true;
  const save = () => {
    if (!saved) return;
    const snapshot: UploadRecord = { ...record, bytesDone: storedBytes, partsDone: done, updatedAt: ctx.clock.now() };
    saving = saving.then(() => ctx.store.put(snapshot)).catch(() => undefined);
  };
  const stopSaving = async () => {
    saved = false;
    await saving;
  };

  let cursor = 0;
  let failed = false;
  const adopt = (p: Part, hashing: Promise<PartDigest>): Promise<PartDigest> => {
    const hash = hashing.then((digest) => {
      if (p.hash === hash) {
        p.digest = digest;
        d.emitEvent('part-hashed', p.partNumber, digest);
        signAhead();
      }
      return digest;
    });
    p.hash = hash;
    // A failed read must be retried later, not cached.
    hash.catch(() => {
      if (p.hash === hash) p.hash = undefined;
    });
    return hash;
  };
  const hashOf = (p: Part): Promise<PartDigest> =>
    p.hash ?? adopt(p, ctx.hasher.hashPart(file, p.start, p.end, hashOptionsOf(record.checksumAlgorithm)));

  // ---- signing ahead: one signer call at a time per upload, started in the background (when a
  // part is hashed, a call returns or a lane takes a URL) while fewer than `signAheadTarget`
  // signed URLs wait for a lane, so lanes rarely wait on the signer. Lanes that need a URL join
  // the next call (or start one). A part is signed again only when its URL went stale before a
  // lane took it, or its PUT failed (its URL was invalidated).
  const wanted = new Set<Part>();
  let signing: Promise<void> | undefined;
  // After a failed call nothing is signed ahead until a call succeeds (the lanes' own calls back off).
  let aheadPaused = false;
  let firstOpen = 0;
  const fresh = (p: Part) => p.signed !== undefined && ctx.clock.now() < p.signed.staleAtMs;
  const keptLater = (p: Part) => {
    const have = stored.get(p.partNumber);
    return have !== undefined && have.size === p.size && normalizeEtag(have.etag) === p.digest?.md5;
  };
  const needsUrl = (p: Part) =>
    p.digest !== undefined && !p.etag && !fresh(p) && !keptLater(p) && (!p.taken || p.signed === undefined);
  /** Parts worth looking at: from the first one not stored to the end of the hashing read-ahead. */
  const window = (): [number, number] => {
    while (firstOpen < parts.length && parts[firstOpen]?.etag) firstOpen++;
    return [firstOpen, Math.min(parts.length, Math.max(cursor, firstOpen) + readAhead + 1)];
  };
  const pickBatch = (): Part[] => {
    const batch = [...wanted].filter((p) => !fresh(p));
    wanted.clear();
    const [from, to] = window();
    for (let i = from; i < to && batch.length < options.signBatchSize; i++) {
      const p = parts[i] as Part;
      if (needsUrl(p) && !batch.includes(p)) batch.push(p);
    }
    return batch;
  };
  const signBatch = async (signal: AbortSignal) => {
    await ctx.clock.sleep(0); // lanes asking in the same turn share the call
    const batch = pickBatch();
    if (batch.length === 0) return;
    const res = await ctx.signer.signParts(record.uploadId, record.token, batch.map(checksumsOf), signal);
    const now = ctx.clock.now();
    for (const s of res.parts) {
      const p = parts[s.partNumber - 1];
      if (p && !p.etag) {
        p.signed = signedTarget(s.url, s.headers, s.expiresAt, now, options.urlExpiryMarginMs);
        p.taken = false;
        if (p.partNumber === 1) location = s.url.split('?')[0] ?? '';
      }
    }
    // Never loop on a signer that leaves a part out.
    const missing = batch.find((p) => !p.etag && !fresh(p));
    if (missing) {
      throw new UploaderError('bad_response', `The upload service did not sign part ${missing.partNumber} (or signed it already expired).`);
    }
  };
  const startSigning = (): Promise<void> => {
    if (signing) return signing;
    const call = signBatch(d.signal).then(
      () => {
        aheadPaused = false;
      },
      (err: unknown) => {
        aheadPaused = true;
        throw err;
      },
    );
    const tracked = call.finally(() => {
      if (signing === tracked) signing = undefined;
      signAhead();
    });
    tracked.catch(() => undefined); // a background call's failure is seen by the lanes that wait on it
    signing = tracked;
    return tracked;
  };
  function signAhead(): void {
    if (signing || aheadPaused || failed || d.signal.aborted) return;
    let waiting = 0;
    let eligible = wanted.size > 0;
    const [from, to] = window();
    for (let i = from; i < to && waiting < signAheadTarget; i++) {
      const p = parts[i] as Part;
      if (!p.etag && !p.taken && fresh(p)) waiting++;
      else if (!eligible && needsUrl(p)) eligible = true;
    }
    if (eligible && waiting < signAheadTarget) void startSigning();
  }
  const signedFor = async (p: Part): Promise<SignedTarget> => {
    while (!fresh(p)) {
      wanted.add(p);
      await startSigning();
    }
    p.taken = true;
    signAhead();
    return p.signed as SignedTarget;
  };
  // One checksum per part request (R2 refuses two): the COMPOSITE algorithm's value when the
  // upload has one, else Content-MD5. The ETag is the part's MD5 either way (resume checks it).
  const checksumsOf = (p: Part) => {
    const digest = p.digest as PartDigest;
    if (record.checksumAlgorithm === 'SHA256' && digest.sha256) {
      return { partNumber: p.partNumber, checksum: hexToBase64(digest.sha256) };
    }
    return { partNumber: p.partNumber, md5: hexToBase64(digest.md5 as string) };
  };

  // ---- lanes: each takes the next part, hashes it (already done, usually), skips it when the
  // bucket holds identical bytes, otherwise sends it. Hashing runs `readAhead` parts ahead.
  const lane = async (k: number) => {
    let first = true;
    for (;;) {
      const p = parts[cursor++];
      if (!p || failed) return;
      // Own part first: the pool is FIFO, and queuing read-ahead before it made part 1 wait
      // behind ~13 others (measured: first send ~1.4 s late on a 256 MiB upload).
      hashOf(p).catch(() => {});
      for (let i = cursor; i < Math.min(parts.length, cursor + readAhead); i++) hashOf(parts[i] as Part).catch(() => {});
      await d.gate();
      const digest = await hashWithRetry(d, () => hashOf(p));
      const have = stored.get(p.partNumber);
      if (have && have.size === p.size && normalizeEtag(have.etag) === digest.md5) {
        markStored(p, digest.md5 as string);
        kept++;
        keptBytes += p.size;
        done++;
        d.emitEvent('part-kept', p.partNumber);
        report();
        save();
        continue;
      }
      if (have && d.resumeOf) {
        // Continuing a given upload: a stored part that differs means the file is not the same one.
        throw fileChangedError(file.name, [`part ${p.partNumber} differs from the part stored earlier`]);
      }
      const target: SendTarget = {
        partNumber: p.partNumber,
        body: () => file.slice(p.start, p.end),
        signed: () => signedFor(p),
        invalidate: () => {
          p.signed = undefined;
        },
        rehash: async () => {
          p.hash = undefined;
          p.digest = undefined;
          p.signed = undefined;
          await hashWithRetry(d, () => hashOf(p));
        },
        onProgress: (loaded) => {
          if (p.etag) return;
          loadingBytes += loaded - p.loaded;
          p.loaded = loaded;
          report();
        },
      };
      if (first) {
        first = false;
        await staggerStart(k);
      }
      const res = await sendWithRecovery(d, target);
      const etag = normalizeEtag(res.etag as string);
      if (etag !== p.digest?.md5) {
        // Only possible if the signer did not bind Content-MD5; the bytes stored are not ours.
        throw new UploaderError('verification_failed', `Part ${p.partNumber} was stored with ETag ${etag}, not its MD5.`);
      }
      markStored(p, etag);
      sent++;
      done++;
      d.emitEvent('part-uploaded', p.partNumber, etag);
      report();
      save();
    }
  };
  // Parts hashed while create was in flight (same part size and checksum as the answer).
  for (const [n, hashing] of early ?? []) {
    const p = parts[n - 1];
    if (p) adopt(p, hashing).catch(() => {});
  }
  d.setStatus(stored.size > 0 ? 'hashing' : 'uploading');
  report();
  // One lane failing stops the others before their next part.
  const lanes = Array.from({ length: laneCount }, (_, k) =>
    lane(k).catch((err) => {
      failed = true;
      for (const w of staggered.splice(0)) w.release();
      throw err;
    }),
  );
  await Promise.all(lanes).catch(async (err: unknown) => {
    await saving;
    throw err;
  });

  d.setStatus('completing');
  const digests = parts.map((p) => p.digest as PartDigest);
  const local = await localChecksum(record.checksumAlgorithm, parts, digests);
  const completed = await d
    .signerCall('complete', (signal) =>
      ctx.signer.complete(
        record.uploadId,
        {
          token: record.token,
          parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag as string })),
          ...(record.checksumAlgorithm === 'CRC64NVME' ? { checksum: local.value } : {}),
        },
        signal,
      ),
    )
    .catch(async (err: unknown) => {
      // The signer found the object different and removed it: this upload is over, start afresh next time.
      if (err instanceof UploaderError && err.code === 'verification_failed') {
        await stopSaving();
        await ctx.store.delete(d.fingerprint).catch(() => undefined);
      }
      throw err;
    });
  await stopSaving();
  await ctx.store.delete(d.fingerprint).catch(() => undefined);
  let verified: Verified;
  try {
    verified = verifyMultipart(completed, {
      ...(local.algorithm !== 'MD5' ? { checksum: local } : {}),
      etag: local.algorithm === 'MD5' ? local.value : await localMultipartEtag(digests),
      partCount: parts.length,
    });
  } catch (err) {
    // The signer completed an object the engine finds different: remove it, so it is never listed.
    const removed = await discardObject(d, record.token, completed.etag);
    if (!(err instanceof UploaderError)) throw err;
    throw new UploaderError(err.code, `${err.message} ${removed ? 'The object was removed.' : 'The object could not be removed.'}`, {
      details: { key: completed.key, removed },
    });
  }
  return {
    key: completed.key,
    location,
    etag: completed.etag,
    size: completed.size,
    verification: verified.verification,
    ...(verified.verifiedBy ? { verifiedBy: verified.verifiedBy } : {}),
    keptParts: kept,
    sentParts: sent,
  };
}

/** Asks the signer to remove an object that failed the engine's own check (a signer without the route: nothing to do). */
export async function discardObject(d: UploadDriver, token: string, etag: string): Promise<boolean> {
  if (!d.ctx.signer.discard) return false;
  const res = await d.ctx.signer.discard(token, normalizeEtag(etag)).catch(() => undefined);
  return res?.discarded === true;
}

/** Reuses the stored record for this file (verified resume) or creates a new multipart upload. */
interface Opened {
  record: UploadRecord;
  stored: Map<number, StoredPart>;
  /** Hashes of the first parts started while create was in flight, valid for the record's part size. */
  early?: Map<number, Promise<PartDigest>> | undefined;
}

/**
 * Starts hashing the first parts (one per lane) at the part size the signer will choose given
 * the same inputs (`choosePartSize`), so part 1 is hashed when create answers. Undefined when
 * it cannot be predicted.
 */
function hashEarly(d: UploadDriver): { partSize: number; hashes: Map<number, Promise<PartDigest>> } | undefined {
  const { ctx, file } = d;
  const { options } = ctx;
  let partSize: number;
  try {
    partSize = choosePartSize(file.size, { preferred: options.partSize ?? DEFAULT_PART_SIZE });
  } catch {
    return undefined;
  }
  const count = Math.min(options.concurrency, partCount(file.size, partSize));
  const hashes = new Map<number, Promise<PartDigest>>();
  for (let n = 1; n <= count; n++) {
    const r = partRange(n, partSize, file.size);
    const hashing = ctx.hasher.hashPart(file, r.start, r.end, hashOptionsOf(options.checksumAlgorithm));
    hashing.catch(() => {}); // unused when the signer chose otherwise; a failed read is retried later
    hashes.set(n, hashing);
  }
  return { partSize, hashes };
}

async function openUpload(d: UploadDriver): Promise<Opened> {
  const { ctx, file, fingerprint } = d;
  const existing = await ctx.store.get(fingerprint).catch(() => undefined);
  const usable = existing && existing.size === file.size && existing.tokenExpiresAt > ctx.clock.now() + 60_000;
  if (d.resumeOf && !usable) {
    throw existing
      ? new UploaderError('token_expired', `The upload of ${file.name} can no longer be continued (its token expired). Start over to upload it again.`)
      : new UploaderError('not_resumable', `The upload of ${file.name} was finished or discarded (perhaps in another tab).`);
  }
  if (existing && usable) {
    const stored = await listStoredParts(d, existing);
    if (stored) {
      // Keep (or refresh) the file's handle with the record, so a later visit can read it again.
      if (d.handle && existing.handle !== d.handle) {
        existing.handle = d.handle;
        await ctx.store.put(existing).catch(() => undefined);
      }
      return { record: existing, stored };
    }
    if (d.resumeOf) {
      throw new UploaderError('not_resumable', `The bucket no longer holds the upload of ${file.name} (aborted or expired). Start over to upload it again.`);
    }
  }
  if (existing) await ctx.store.delete(fingerprint);
  const { options } = ctx;
  const early = hashEarly(d);
  const created = await d.signerCall('create', (signal) =>
    ctx.signer.create(
      {
        name: file.name,
        type: file.type,
        size: file.size,
        multipart: true,
        checksumAlgorithm: options.checksumAlgorithm,
        ...(options.partSize ? { partSize: options.partSize } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      },
      signal,
    ),
  );
  if (created.type !== 'multipart') {
    throw new UploaderError('bad_response', 'The upload service answered a multipart create with a single PUT.');
  }
  if (created.storeMultiplexed) ctx.storeMultiplexed();
  // The first PUT would otherwise open its connection only once its URL is signed: a round trip
  // (two with TLS) more before the first byte.
  if (created.storeOrigin) ctx.preconnect(created.storeOrigin);
  const record = recordOf(d, created);
  // A full or blocked storage only costs resumability, never the upload. A handle that cannot be
  // stored (a platform whose handles do not clone) costs only the resume without re-selecting.
  await ctx.store.put(record).catch(async () => {
    if (!record.handle) return;
    delete record.handle;
    await ctx.store.put(record).catch(() => undefined);
  });
  // The signer's answer differs from the prediction (its own default or part limit): rehash.
  const same = early && created.partSize === early.partSize && created.checksumAlgorithm === options.checksumAlgorithm;
  return { record, stored: new Map(), early: same ? early.hashes : undefined };
}

function recordOf(d: UploadDriver, c: MultipartUploadResponse): UploadRecord {
  const { file } = d;
  return {
    fingerprint: d.fingerprint,
    endpoint: d.ctx.endpoint,
    name: file.name,
    type: file.type,
    size: file.size,
    lastModified: file.lastModified ?? 0,
    key: c.key,
    uploadId: c.uploadId,
    token: c.token,
    tokenExpiresAt: Date.parse(c.tokenExpiresAt),
    partSize: c.partSize,
    partCount: c.partCount,
    checksumAlgorithm: c.checksumAlgorithm,
    createdAt: d.ctx.clock.now(),
    id: newRecordId(),
    ...(d.handle ? { handle: d.handle } : {}),
    bytesDone: 0,
    partsDone: 0,
    updatedAt: d.ctx.clock.now(),
  };
}

function newRecordId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return `up-${c?.randomUUID ? c.randomUUID().slice(0, 18) : Math.random().toString(36).slice(2, 14)}`;
}

/** Parts the bucket holds for a recorded upload, or undefined when it cannot be resumed (start over). */
async function listStoredParts(d: UploadDriver, record: UploadRecord): Promise<Map<number, StoredPart> | undefined> {
  const map = new Map<number, StoredPart>();
  try {
    const res = await d.signerCall('list parts', (signal) => d.ctx.signer.listParts(record.uploadId, record.token, signal));
    for (const p of res.parts) map.set(p.partNumber, p);
  } catch (err) {
    // Aborted, expired or completed elsewhere: nothing to resume, a new upload starts.
    if (err instanceof UploaderError && ['not_found', 'token_expired', 'invalid_token', 'forbidden'].includes(err.code)) {
      return undefined;
    }
    throw err;
  }
  return map;
}

async function hashWithRetry(d: UploadDriver, fn: () => Promise<PartDigest>): Promise<PartDigest> {
  try {
    return await fn();
  } catch (err) {
    // A worker crash is retried once; then the error says which of the two usual causes it is.
    try {
      return await fn();
    } catch (again) {
      throw hashingError(d.file.name, again ?? err);
    }
  }
}

/** Hashing failures: the worker could not start (CSP, bundling) or the file could not be read. */
export function hashingError(name: string, err: unknown): UploaderError {
  const message = err instanceof Error ? err.message : String(err);
  if (/hash worker error|hash pool terminated/.test(message)) {
    return new UploaderError(
      'hashing_failed',
      `The hashing worker could not run (${message}). A Content-Security-Policy must allow 'wasm-unsafe-eval' for workers.`,
      { cause: err },
    );
  }
  return new UploaderError(
    'file_unreadable',
    `${name} could not be read: it may have been changed, moved or deleted since it was picked.`,
    { cause: err },
  );
}
