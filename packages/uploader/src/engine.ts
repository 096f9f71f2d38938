// The framework-free engine: one per page (or per signer). It owns the shared parts — hashing
// pool, connection slots, record store — and creates an `Upload` per file.
import { DEFAULT_PART_SIZE } from '@chute/protocol';
import { Emitter } from './emitter.js';
import type { FileLike } from './fingerprint.js';
import type { FileHandleLike } from './handles.js';
import { type PartHasher, WorkerHashPool, type WorkerFactory } from './hash-pool.js';
import { browserConnectivity, browserPreconnect, type Clock, type Connectivity, type Preconnect, systemClock } from './platform.js';
import { discardRecord, fileOfRecord, findRecord, listPending, type PendingUpload, type ResumeOptions } from './pending.js';
import { defaultRecordStore, pruneRecords, type RecordStore, type UploadRecord } from './record-store.js';
import { defaultRetryPolicy } from './retry.js';
import { UploaderError } from './errors.js';
import { Semaphore } from './semaphore.js';
import { batchingCreates } from './create-batcher.js';
import { HttpSignerClient, type SignerClient } from './signer-client.js';
import { defaultLocks, defaultTabChannel, type Locks, type TabChannel, type TabProgress } from './tabs.js';
import { type PartTransport, XhrTransport } from './transport.js';
import type { EngineContext, EngineOptions } from './types.js';
import { Upload, type UploadInit } from './upload.js';

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
  /** Default: a `<link rel="preconnect">` to a signer on another origin (when made) and to the store (while a multipart upload's first parts are signed). */
  preconnect?: Preconnect;
  /** Default: `navigator.locks` (one uploader per file across tabs), else within this page only. */
  locks?: Locks;
  /** Default: a `BroadcastChannel` telling other tabs the progress of this one's uploads. */
  channel?: TabChannel;
}

/** Options of `engine.add()` / `engine.upload()`. */
export interface AddOptions {
  id?: string;
  metadata?: Record<string, string>;
  /** The file's `FileSystemFileHandle` (Chute's picker, a drop): a later visit resumes without re-selecting. */
  handle?: FileHandleLike;
  /** Internal to `resume()` and the Uppy plugin: continue exactly this interrupted upload. */
  resumeOf?: UploadRecord;
  waitForOtherTab?: boolean;
}

export const defaultEngineOptions: EngineOptions = {
  concurrency: 5, // Chrome: 6 connections per host, one left for the signer when on the same host
  multiplexedConcurrency: 32, // HTTP/2: one connection; enough small files in flight to fill 400 Mbit/s × 150 ms
  multipartThreshold: DEFAULT_PART_SIZE,
  checksumAlgorithm: 'CRC64NVME',
  stallTimeoutMs: 30_000,
  retry: defaultRetryPolicy,
  signBatchSize: 20,
  urlExpiryMarginMs: 30_000,
  hashAhead: 8,
  abortAfterDays: 7, // chute-server setup's default lifecycle rule
};

export interface EngineEvents extends Record<string, unknown[]> {
  'upload-added': [upload: Upload];
  'upload-removed': [upload: Upload];
  /** Progress of an upload running in another tab of this app (BroadcastChannel). */
  'remote-progress': [progress: TabProgress];
}

export class ChuteEngine extends Emitter<EngineEvents> {
  readonly #ctx: EngineContext;
  readonly #uploads = new Map<string, Upload>();
  readonly #unsubscribe: () => void;

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
    const slots = new Semaphore(engineOptions.concurrency);
    // Files prepared ahead of the store requests: enough that a slot never waits for a create.
    const admission = new Semaphore(2 * engineOptions.concurrency);
    const chosen = options.concurrency !== undefined;
    this.#ctx = {
      endpoint: options.endpoint,
      signer: batchingCreates(
        options.signer ??
          new HttpSignerClient({
            endpoint: options.endpoint,
            ...(options.getAuthToken ? { getAuthToken: options.getAuthToken } : {}),
          }),
      ),
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
      preconnect: options.preconnect ?? browserPreconnect,
      slots,
      admission,
      storeMultiplexed: () => {
        if (chosen || slots.size >= engineOptions.multiplexedConcurrency) return;
        slots.resize(engineOptions.multiplexedConcurrency);
        admission.resize(2 * engineOptions.multiplexedConcurrency);
      },
      locks: options.locks ?? defaultLocks(),
      channel: options.channel ?? defaultTabChannel(),
      options: engineOptions,
      inFlight: { current: 0, peak: 0 },
    };
    const signer = this.#ctx.signer;
    pruneRecords(this.#ctx.store, clock.now(), {
      abortAfterDays: engineOptions.abortAfterDays,
      abort: (r) => signer.abort(r.uploadId, r.token),
    }).catch(() => undefined);
    this.#unsubscribe = this.#ctx.channel.subscribe((m) => this.emit('remote-progress', m));
    // A signer on another origin: its connection opens now, not with the first create (whose
    // preflight and request then each wait for a new connection).
    const signerOrigin = crossOrigin(options.endpoint);
    if (signerOrigin) this.#ctx.preconnect(signerOrigin);
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
  add(file: Blob & FileLike, options: AddOptions = {}): Upload {
    const ctx = options.metadata ? { ...this.#ctx, options: { ...this.#ctx.options, metadata: options.metadata } } : this.#ctx;
    const init: UploadInit = {
      ...(options.id ? { id: options.id } : {}),
      ...(options.handle ? { handle: options.handle } : {}),
      ...(options.resumeOf ? { resumeOf: options.resumeOf } : {}),
      ...(options.waitForOtherTab ? { waitForOtherTab: true } : {}),
    };
    const upload = new Upload(file, ctx, init);
    this.#uploads.set(upload.id, upload);
    this.emit('upload-added', upload);
    return upload;
  }

  /** Adds and starts a file in one call. */
  upload(file: Blob & FileLike, options: AddOptions = {}) {
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

  /**
   * Interrupted uploads of this device (and those running in this or another tab), newest first:
   * name, size, bytes done, age, whether the file's handle was kept (then `resume(id)` needs no
   * re-selection). Records older than `abortAfterDays` are left out.
   */
  async pending(): Promise<PendingUpload[]> {
    const here = new Set<string>();
    for (const u of this.#uploads.values()) if (u.fingerprint && !['verified', 'failed'].includes(u.status)) here.add(u.fingerprint);
    return listPending(this.#ctx, here);
  }

  /**
   * Continues an interrupted upload from its kept file handle: asks for read permission once,
   * checks size and modification date (`file_changed` otherwise), then resumes as a re-selected
   * file would — every part the bucket holds is checked against the local part's MD5 (a differing
   * one fails `file_changed`). `restart: true` aborts it and uploads the file as it is now.
   * The upload is started; `await upload.start()` gives its result.
   */
  async resume(id: string, options: ResumeOptions & { metadata?: Record<string, string> } = {}): Promise<Upload> {
    const record = await findRecord(this.#ctx, id);
    const { file, handle } = await fileOfRecord(record, {
      ...(options.requestPermission === false ? { requestPermission: false } : {}),
      ...(options.restart ? { allowChanged: true } : {}),
    });
    if (options.restart) await this.discard(record);
    else if (record.tokenExpiresAt <= this.#ctx.clock.now() + 60_000) {
      throw new UploaderError('token_expired', `The upload of ${record.name} can no longer be continued (its token expired). Start over to upload it again.`);
    }
    const upload = this.add(file, {
      handle,
      ...(options.restart ? {} : { resumeOf: record }),
      ...(options.waitForOtherTab ? { waitForOtherTab: true } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    });
    upload.start().catch(() => undefined); // the caller observes the same promise through start()
    return upload;
  }

  /** The file of an interrupted upload, read again through its handle (for UIs that add it to Uppy themselves). */
  async fileOf(id: string, options: { requestPermission?: boolean; allowChanged?: boolean } = {}) {
    const record = await findRecord(this.#ctx, id);
    return { ...(await fileOfRecord(record, options)), record };
  }

  /**
   * Forgets an interrupted upload and aborts its multipart upload through the signer (an expired
   * token still lets its owner abort). One running here is canceled; one running in another tab
   * fails `in_other_tab`.
   */
  async discard(idOrRecord: string | UploadRecord): Promise<void> {
    const record = typeof idOrRecord === 'string' ? await findRecord(this.#ctx, idOrRecord) : idOrRecord;
    const running = [...this.#uploads.values()].find((u) => u.fingerprint === record.fingerprint && !['verified', 'failed'].includes(u.status));
    if (running) {
      await running.cancel();
      return;
    }
    await discardRecord(this.#ctx, record);
  }

  /** Stops the hashing workers and the tab channel. Uploads in progress fail; their records stay for a later resume. */
  destroy(): void {
    this.#ctx.hasher.terminate();
    this.#unsubscribe();
    this.#ctx.channel.close();
  }
}

/** The endpoint's origin when it is not the page's own (undefined outside a page, or for `''`). */
function crossOrigin(endpoint: string): string | undefined {
  const here = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (!endpoint || !here) return undefined;
  try {
    const origin = new URL(endpoint, here).origin;
    return origin === here ? undefined : origin;
  } catch {
    return undefined;
  }
}
