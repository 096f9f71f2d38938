// The framework-free engine: one per page (or per signer). It owns the shared parts — hashing
// pool, connection slots, record store — and creates an `Upload` per file.
import { DEFAULT_PART_SIZE } from '@chute/protocol';
import { Emitter } from './emitter.js';
import type { FileLike } from './fingerprint.js';
import { type PartHasher, WorkerHashPool, type WorkerFactory } from './hash-pool.js';
import { browserConnectivity, type Clock, type Connectivity, systemClock } from './platform.js';
import { defaultRecordStore, pruneExpired, type RecordStore, type UploadRecord } from './record-store.js';
import { defaultRetryPolicy } from './retry.js';
import { Semaphore } from './semaphore.js';
import { HttpSignerClient, type SignerClient } from './signer-client.js';
import { type PartTransport, XhrTransport } from './transport.js';
import type { EngineContext, EngineOptions } from './types.js';
import { Upload } from './upload.js';

export interface ChuteEngineOptions extends Partial<EngineOptions> {
  /** Base URL of the Chute signer (routes start with `/api`); `''` for the page's origin. */
  endpoint: string;
  /** Sent as `Authorization: Bearer …` to the signer. */
  getAuthToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Hashing workers (default: from `navigator.hardwareConcurrency`). */
  poolSize?: number;
  workerFactory?: WorkerFactory;
  // Platform seams (defaults: fetch signer client, worker pool, XHR, IndexedDB, Date, navigator.onLine).
  signer?: SignerClient;
  hasher?: PartHasher;
  transport?: PartTransport;
  store?: RecordStore;
  clock?: Clock;
  connectivity?: Connectivity;
}

export const defaultEngineOptions: EngineOptions = {
  concurrency: 5, // Chrome: 6 connections per host, one left for the signer when on the same host
  multipartThreshold: DEFAULT_PART_SIZE,
  checksumAlgorithm: 'CRC64NVME',
  stallTimeoutMs: 30_000,
  retry: defaultRetryPolicy,
  signBatchSize: 20,
  urlExpiryMarginMs: 30_000,
  hashAhead: 8,
};

export interface EngineEvents extends Record<string, unknown[]> {
  'upload-added': [upload: Upload];
  'upload-removed': [upload: Upload];
}

export class ChuteEngine extends Emitter<EngineEvents> {
  readonly #ctx: EngineContext;
  readonly #uploads = new Map<string, Upload>();

  constructor(options: ChuteEngineOptions) {
    super();
    const engineOptions: EngineOptions = { ...defaultEngineOptions };
    for (const k of Object.keys(defaultEngineOptions) as (keyof EngineOptions)[]) {
      if (options[k] !== undefined) Object.assign(engineOptions, { [k]: options[k] });
    }
    for (const k of ['partSize', 'metadata', 'testHooks'] as const) {
      if (options[k] !== undefined) Object.assign(engineOptions, { [k]: options[k] });
    }
    if (!Number.isInteger(engineOptions.concurrency) || engineOptions.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${engineOptions.concurrency}`);
    }
    const clock = options.clock ?? systemClock;
    this.#ctx = {
      endpoint: options.endpoint,
      signer:
        options.signer ??
        new HttpSignerClient({
          endpoint: options.endpoint,
          ...(options.getAuthToken ? { getAuthToken: options.getAuthToken } : {}),
        }),
      hasher:
        options.hasher ??
        new WorkerHashPool({
          ...(options.poolSize ? { size: options.poolSize } : {}),
          ...(options.workerFactory ? { workerFactory: options.workerFactory } : {}),
        }),
      transport: options.transport ?? new XhrTransport(),
      store: options.store ?? defaultRecordStore(),
      clock,
      connectivity: options.connectivity ?? browserConnectivity,
      slots: new Semaphore(engineOptions.concurrency),
      options: engineOptions,
      inFlight: { current: 0, peak: 0 },
    };
    pruneExpired(this.#ctx.store, clock.now()).catch(() => undefined);
  }

  get options(): Readonly<EngineOptions> {
    return this.#ctx.options;
  }

  /** Parts in flight now, and the most seen at once since the engine started. */
  get inFlight(): Readonly<{ current: number; peak: number }> {
    return this.#ctx.inFlight;
  }

  get uploads(): Upload[] {
    return [...this.#uploads.values()];
  }

  get(id: string): Upload | undefined {
    return this.#uploads.get(id);
  }

  /** Adds a file; call `start()` on the result (or `upload()` here) to send it. */
  add(file: Blob & FileLike, options: { id?: string; metadata?: Record<string, string> } = {}): Upload {
    const ctx = options.metadata ? { ...this.#ctx, options: { ...this.#ctx.options, metadata: options.metadata } } : this.#ctx;
    const upload = new Upload(file, ctx, options.id);
    this.#uploads.set(upload.id, upload);
    this.emit('upload-added', upload);
    return upload;
  }

  /** Adds and starts a file in one call. */
  upload(file: Blob & FileLike, options: { id?: string; metadata?: Record<string, string> } = {}) {
    return this.add(file, options).start();
  }

  remove(id: string): void {
    const upload = this.#uploads.get(id);
    if (!upload) return;
    this.#uploads.delete(id);
    this.emit('upload-removed', upload);
  }

  pauseAll(): void {
    for (const u of this.#uploads.values()) u.pause();
  }

  resumeAll(): void {
    for (const u of this.#uploads.values()) u.resume();
  }

  /** Uploads started on this device that can still be resumed (a "re-select these files" prompt). */
  async resumable(): Promise<UploadRecord[]> {
    const now = this.#ctx.clock.now();
    const records = await this.#ctx.store.list();
    return records.filter((r) => r.endpoint === this.#ctx.endpoint && r.tokenExpiresAt > now);
  }

  /** Forgets a resume record and aborts its multipart upload in the bucket. */
  async discard(record: UploadRecord): Promise<void> {
    await this.#ctx.signer.abort(record.uploadId, record.token).catch(() => undefined);
    await this.#ctx.store.delete(record.fingerprint);
  }

  /** Stops the hashing workers. Uploads in progress fail; their records stay for a later resume. */
  destroy(): void {
    this.#ctx.hasher.terminate();
  }
}
