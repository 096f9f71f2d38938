// Single-PUT creates of many small files share signer calls. Each call costs the browser (and the
// signer) far more CPU than its bytes: with hundreds of small files that, not the link, caps files
// per second. Like Nagle's algorithm, nothing waits when the signer is idle: a create goes out at
// once when no call is out, and the creates that arrive meanwhile leave together when it returns —
// batches grow exactly as fast as files are ready, by themselves. One call at a time is enough: the
// engine admits files ahead of their store slots, so a create waiting a round trip delays no PUT.
import { type CreateBatchResult, type CreateUploadRequest, type CreateUploadResponse, isRetryable, MAX_CREATES_PER_BATCH, statusOf } from '@chute/protocol';
import { UploaderError } from './errors.js';
import type { SignerClient } from './signer-client.js';

interface Pending {
  req: CreateUploadRequest;
  signal: AbortSignal | undefined;
  resolve(res: CreateUploadResponse): void;
  reject(err: unknown): void;
  settled: boolean;
  /** Drops the abort listener once the file has its answer. */
  done(): void;
}

export interface CreateBatchOptions {
  /** Signer calls out at once for creates (default 1). */
  maxInFlight?: number;
  /** Most files per call (default and cap: the protocol's `MAX_CREATES_PER_BATCH`). */
  maxBatch?: number;
}

/** `signer` with its single-PUT creates batched (when it can: `createMany`); everything else passes through. */
export function batchingCreates(signer: SignerClient, options: CreateBatchOptions = {}): SignerClient {
  const createMany = signer.createMany?.bind(signer);
  if (!createMany) return signer;
  const maxInFlight = options.maxInFlight ?? 1;
  const maxBatch = Math.min(options.maxBatch ?? MAX_CREATES_PER_BATCH, MAX_CREATES_PER_BATCH);
  const queue: Pending[] = [];
  let inFlight = 0;
  // Set when the signer has no batch route: every create goes alone from then on.
  let unsupported = false;

  const settle = (p: Pending, fn: () => void) => {
    if (p.settled) return;
    p.settled = true;
    p.done();
    fn();
  };
  const alone = (p: Pending) =>
    signer.create(p.req, p.signal).then(
      (res) => settle(p, () => p.resolve(res)),
      (err: unknown) => settle(p, () => p.reject(err)),
    );
  const outcome = (p: Pending, r: CreateBatchResult) => {
    if ('upload' in r) return settle(p, () => p.resolve(r.upload));
    const { code, message, details } = r.error;
    settle(p, () => p.reject(new UploaderError(code, message, { status: statusOf(code), retryable: isRetryable(code), ...(details ? { details } : {}) })));
  };
  const send = async (batch: Pending[]) => {
    if (batch.length === 1 || unsupported) {
      await Promise.all(batch.map(alone));
      return;
    }
    try {
      // Not tied to any one file's signal: one file paused must not cancel the others' creates.
      const results = await createMany(batch.map((p) => p.req));
      batch.forEach((p, i) => outcome(p, results[i] as CreateBatchResult));
    } catch (err) {
      if (err instanceof UploaderError && (err.status === 404 || err.status === 405)) {
        unsupported = true;
        await Promise.all(batch.map(alone));
        return;
      }
      // The call failed as a whole (network, 5xx, 429): each file retries on its own schedule.
      for (const p of batch) settle(p, () => p.reject(err));
    }
  };
  const pump = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch).filter((p) => !p.settled);
      if (batch.length === 0) continue;
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  };

  const create = (req: CreateUploadRequest, signal?: AbortSignal): Promise<CreateUploadResponse> => {
    if (req.multipart !== false || unsupported) return signer.create(req, signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      // Aborted while queued or in flight: the file stops waiting (an unused PUT URL costs nothing).
      const onAbort = () => settle(p, () => reject(signal?.reason));
      const p: Pending = { req, signal, resolve, reject, settled: false, done: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(p);
      pump();
    });
  };

  return {
    create,
    createMany,
    signParts: (...a) => signer.signParts(...a),
    listParts: (...a) => signer.listParts(...a),
    complete: (...a) => signer.complete(...a),
    abort: (...a) => signer.abort(...a),
    ...(signer.discard ? { discard: signer.discard.bind(signer) } : {}),
  };
}
