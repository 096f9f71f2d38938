// One file's upload: an explicit status machine over create → hash → sign → send → complete,
// with pause/resume/cancel. Recovery of single requests lives in `send-part.ts`; the multipart
// part pipeline in `multipart.ts`.
import { Emitter } from './emitter.js';
import { fileChangedError, isAbortLike, PauseSignal, UploaderError } from './errors.js';
import { type FileLike, fingerprintOf, metadataFingerprint, PROBE_BYTES } from './fingerprint.js';
import type { FileHandleLike } from './handles.js';
import { hashingError, runMultipart } from './multipart.js';
import { backoffDelay } from './retry.js';
import type { UploadRecord } from './record-store.js';
import { hashSingle, runSingle } from './single.js';
import { lockName } from './tabs.js';
import type { EngineContext, UploadEvents, UploadResult, UploadState, UploadStatus } from './types.js';

let nextId = 1;

/** How an upload is made (`engine.add(file, options)`). */
export interface UploadInit {
  id?: string;
  /** The file's handle (Chromium): kept in the resume record so a later visit can read the file again. */
  handle?: FileHandleLike | undefined;
  /**
   * Continue exactly this interrupted upload (`engine.resume(id)`): the file must be the one it
   * began with — same fingerprint, every stored part equal to the local part's MD5 — or the upload
   * fails with `file_changed` instead of silently re-sending; a missing record fails `not_resumable`.
   */
  resumeOf?: UploadRecord | undefined;
  /** When another tab uploads the same file: wait for it to close (take over) instead of failing `in_other_tab`. */
  waitForOtherTab?: boolean;
}

/** How often progress is told to the other tabs. */
const BROADCAST_EVERY_MS = 200;

/** Internal face of an upload that the pipelines drive. */
export interface UploadDriver {
  readonly file: Blob & FileLike;
  readonly ctx: EngineContext;
  readonly fingerprint: string;
  readonly handle: FileHandleLike | undefined;
  /** Set when continuing a given interrupted upload: any difference in the file is an error. */
  readonly resumeOf: UploadRecord | undefined;
  /** Aborted on pause and on cancel; replaced on resume. */
  readonly signal: AbortSignal;
  setStatus(status: UploadStatus): void;
  setKey(key: string): void;
  setParts(done: number, total: number): void;
  progress(bytes: number): void;
  emitEvent<E extends keyof UploadEvents>(event: E, ...args: UploadEvents[E]): void;
  /** Resolves at once when running; waits while paused; throws when canceled. */
  gate(): Promise<void>;
  /** Runs a signer call with backoff on retryable failures (the signer may be restarting). */
  signerCall<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Waits (without counting a retry) until the platform is online. */
  waitOnline(): Promise<void>;
  /** The upload got its first store slot: its place among the files being prepared goes to the next one. */
  admitted(): void;
}

export class Upload extends Emitter<UploadEvents> {
  readonly id: string;
  readonly file: Blob & FileLike;
  readonly #ctx: EngineContext;
  #state: UploadState | undefined;
  #controller = new AbortController();
  #paused = false;
  #canceled = false;
  #resume: (() => void) | undefined;
  #resumed: Promise<void> | undefined;
  #running: Promise<UploadResult> | undefined;
  #fingerprint = '';
  readonly #init: UploadInit;
  readonly #lockWait = new AbortController();
  #lastBroadcast = 0;
  /** Set by the multipart pipeline so cancel can abort the multipart upload. */
  abortRemote: (() => Promise<void>) | undefined;

  constructor(file: Blob & FileLike, ctx: EngineContext, init: UploadInit | string = {}) {
    super();
    this.#init = typeof init === 'string' ? { id: init } : init;
    this.id = this.#init.id ?? `chute-${nextId++}`;
    this.file = file;
    this.#ctx = ctx;
  }

  /**
   * Made on first use, not in the constructor: a picked File's first `size` read is a synchronous
   * call to Chromium's browser process (~0.4 ms), so adding 500 files read 500 sizes in one task
   * (~230 ms) before the first could start. Now each is read when it is asked for or starts.
   */
  #st(): UploadState {
    this.#state ??= {
      id: this.id,
      name: this.file.name,
      size: this.file.size,
      type: this.file.type,
      status: 'hashing',
      bytesUploaded: 0,
      partCount: 0,
      partsDone: 0,
    };
    return this.#state;
  }

  get state(): Readonly<UploadState> {
    return this.#st();
  }

  get status(): UploadStatus {
    return this.#state?.status ?? 'hashing';
  }

  /** The file's identity (set once hashing of its probe is done; the Web Lock is `chute:` + this). */
  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** Starts (or returns the running) upload; resolves when the object is stored and verified. */
  start(): Promise<UploadResult> {
    this.#running ??= this.#run();
    return this.#running;
  }

  pause(): void {
    if (this.#paused || this.#canceled || this.#isFinal()) return;
    this.#paused = true;
    this.#leaveAdmission(); // a paused file does not hold up the files behind it
    this.#resumed = new Promise((resolve) => {
      this.#resume = resolve;
    });
    this.#controller.abort(new PauseSignal());
    this.#setStatus('paused');
  }

  resume(): void {
    if (!this.#paused || this.#canceled) return;
    this.#paused = false;
    this.#controller = new AbortController();
    this.#setStatus('uploading');
    this.#resume?.();
  }

  /** Stops the upload, aborts the multipart upload in the bucket and forgets its resume record. */
  async cancel(): Promise<void> {
    if (this.#canceled || this.status === 'verified') return;
    this.#canceled = true;
    this.#controller.abort(new UploaderError('canceled', 'The upload was canceled.'));
    this.#lockWait.abort(new UploaderError('canceled', 'The upload was canceled.'));
    this.#resume?.();
    await this.#running?.catch(() => undefined);
    try {
      await this.abortRemote?.();
    } finally {
      if (this.#fingerprint) await this.#ctx.store.delete(this.#fingerprint).catch(() => undefined);
    }
  }

  #isFinal(): boolean {
    return this.status === 'verified' || this.status === 'failed';
  }

  #setStatus(status: UploadStatus): void {
    if (this.status === status) return;
    this.#state = { ...this.#st(), status };
    this.emit('status', status);
    this.#broadcast(true);
  }

  /** Tells the other tabs of this app how far this upload is (throttled, except status changes). */
  #broadcast(force = false): void {
    if (!this.#fingerprint || !this.#locked) return;
    const now = Date.now();
    const ended = this.#isFinal() || this.#canceled;
    if (!force && !ended && now - this.#lastBroadcast < BROADCAST_EVERY_MS) return;
    this.#lastBroadcast = now;
    this.#ctx.channel.post({
      fingerprint: this.#fingerprint,
      name: this.file.name,
      size: this.file.size,
      bytesUploaded: this.#st().bytesUploaded,
      status: this.#canceled ? 'canceled' : this.#st().status,
      ended,
      at: now,
    });
  }

  /** True while this upload holds its file's lock (only then does it speak for the file to other tabs). */
  #locked = false;

  /** Gives back this upload's place among the files being prepared (once). */
  #leaveAdmission: () => void = () => {};

  async #run(): Promise<UploadResult> {
    this.#setStatus('hashing');
    try {
      // Files are prepared in the order they came, a bounded number at a time: with 500 files
      // at once the first one's create does not wait behind 499 fingerprints in the hash pool.
      if (!this.#paused) {
        const release = await this.#ctx.admission.acquire(this.#lockWait.signal);
        this.#leaveAdmission = release;
        if (this.#paused) release();
      }
      const single = this.file.size <= this.#ctx.options.multipartThreshold;
      // A single-PUT file is read once: its digests and its fingerprint probe in one worker job.
      const digest = single ? await hashSingle(this.#ctx, this.file, PROBE_BYTES) : undefined;
      this.#fingerprint = digest?.probe
        ? `${metadataFingerprint(this.file, this.#ctx.endpoint)}#${digest.probe}`
        : await fingerprintOf(this.file, this.#ctx.endpoint, this.#ctx.hasher).catch((err: unknown) => {
            throw hashingError(this.file.name, err);
          });
      const { resumeOf } = this.#init;
      if (resumeOf && resumeOf.fingerprint !== this.#fingerprint) {
        throw fileChangedError(this.file.name, ['its first or last 64 KiB differ']);
      }
      const driver = this.#driver();
      const { options } = this.#ctx;
      // Waiting for another tab can take as long as that tab's upload: not while holding a place.
      if (this.#init.waitForOtherTab === true) this.#leaveAdmission();
      // One uploader per file across the tabs of this app: the pipeline runs holding the file's lock.
      const locked = await this.#ctx.locks.run(
        lockName(this.#fingerprint),
        { wait: this.#init.waitForOtherTab === true, signal: this.#lockWait.signal },
        async () => {
          // Stays set until the final status was told to the other tabs.
          this.#locked = true;
          return single ? runSingle(driver, digest) : runMultipart(driver, this);
        },
      );
      if (!locked.acquired) {
        throw new UploaderError('in_other_tab', `${this.file.name} is being uploaded in another tab of this app; it goes on there.`);
      }
      const result = locked.value;
      this.#state = { ...this.#st(), result, key: result.key, bytesUploaded: this.file.size };
      this.#leaveAdmission();
      this.#setStatus('verified');
      this.#locked = false;
      this.emit('verification', result.verification);
      this.emit('success', result);
      return result;
    } catch (err) {
      const error = this.#canceled
        ? new UploaderError('canceled', 'The upload was canceled.')
        : err instanceof UploaderError
          ? err
          : new UploaderError('file_unreadable', `The upload failed: ${err instanceof Error ? err.message : String(err)}`, {
              cause: err,
            });
      this.#state = { ...this.#st(), error };
      this.#setStatus('failed');
      this.#leaveAdmission();
      this.#locked = false;
      this.emit('error', error);
      throw error;
    }
  }

  #driver(): UploadDriver {
    const upload = this; // the `signal` getter needs the upload, not the driver object
    const ctx = this.#ctx;
    return {
      file: this.file,
      ctx,
      fingerprint: this.#fingerprint,
      handle: this.#init.handle,
      resumeOf: this.#init.resumeOf,
      get signal() {
        return upload.#controller.signal;
      },
      setStatus: (status) => {
        if (!this.#paused && !this.#canceled) this.#setStatus(status);
      },
      setKey: (key) => {
        this.#state = { ...this.#st(), key };
      },
      setParts: (done, total) => {
        const more = done > this.#st().partsDone;
        this.#state = { ...this.#st(), partsDone: done, partCount: total };
        if (more) this.#broadcast(true); // every stored part is told at once, between throttled updates
      },
      progress: (bytes) => {
        this.#state = { ...this.#st(), bytesUploaded: bytes };
        this.emit('progress', bytes, this.file.size);
        this.#broadcast();
      },
      emitEvent: (event, ...args) => this.emit(event, ...args),
      gate: () => this.#driverGate(),
      admitted: () => this.#leaveAdmission(),
      waitOnline: async () => {
        if (ctx.connectivity.isOnline()) return;
        this.#setStatus('retrying');
        await ctx.connectivity.waitOnline(this.#controller.signal);
      },
      signerCall: async (what, fn) => {
        for (let attempt = 1; ; attempt++) {
          await upload.#driverGate();
          try {
            return await fn(this.#controller.signal);
          } catch (err) {
            if (isAbortLike(err)) {
              if (this.#canceled) throw err;
              continue; // paused: the gate waits, then the call is made again
            }
            const retryable = err instanceof UploaderError && err.retryable;
            if (!retryable || attempt > ctx.options.retry.maxRetries) throw err;
            if (!ctx.connectivity.isOnline()) {
              await ctx.connectivity.waitOnline(this.#controller.signal).catch(() => undefined);
              attempt--;
              continue;
            }
            const delayMs = backoffDelay(ctx.options.retry, attempt);
            this.#setStatus('retrying');
            this.emit('retry', { attempt, reason: `${what}: ${(err as Error).message}`, delayMs });
            await ctx.clock.sleep(delayMs, this.#controller.signal).catch(() => undefined);
          }
        }
      },
    };
  }

  async #driverGate(): Promise<void> {
    while (this.#paused && !this.#canceled) await this.#resumed;
    if (this.#canceled) throw new UploaderError('canceled', 'The upload was canceled.');
  }
}
