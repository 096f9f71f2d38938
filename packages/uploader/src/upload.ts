// One file's upload: an explicit status machine over create → hash → sign → send → complete,
// with pause/resume/cancel. Recovery of single requests lives in `send-part.ts`; the multipart
// part pipeline in `multipart.ts`.
import { Emitter } from './emitter.js';
import { isAbortLike, PauseSignal, UploaderError } from './errors.js';
import { type FileLike, fingerprintOf } from './fingerprint.js';
import { hashingError, runMultipart } from './multipart.js';
import { backoffDelay } from './retry.js';
import { runSingle } from './single.js';
import type { EngineContext, UploadEvents, UploadResult, UploadState, UploadStatus } from './types.js';

let nextId = 1;

/** Internal face of an upload that the pipelines drive. */
export interface UploadDriver {
  readonly file: Blob & FileLike;
  readonly ctx: EngineContext;
  readonly fingerprint: string;
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
}

export class Upload extends Emitter<UploadEvents> {
  readonly id: string;
  readonly file: Blob & FileLike;
  readonly #ctx: EngineContext;
  #state: UploadState;
  #controller = new AbortController();
  #paused = false;
  #canceled = false;
  #resume: (() => void) | undefined;
  #resumed: Promise<void> | undefined;
  #running: Promise<UploadResult> | undefined;
  #fingerprint = '';
  /** Set by the multipart pipeline so cancel can abort the multipart upload. */
  abortRemote: (() => Promise<void>) | undefined;

  constructor(file: Blob & FileLike, ctx: EngineContext, id?: string) {
    super();
    this.id = id ?? `chute-${nextId++}`;
    this.file = file;
    this.#ctx = ctx;
    this.#state = {
      id: this.id,
      name: file.name,
      size: file.size,
      type: file.type,
      status: 'hashing',
      bytesUploaded: 0,
      partCount: 0,
      partsDone: 0,
    };
  }

  get state(): Readonly<UploadState> {
    return this.#state;
  }

  get status(): UploadStatus {
    return this.#state.status;
  }

  /** Starts (or returns the running) upload; resolves when the object is stored and verified. */
  start(): Promise<UploadResult> {
    this.#running ??= this.#run();
    return this.#running;
  }

  pause(): void {
    if (this.#paused || this.#canceled || this.#isFinal()) return;
    this.#paused = true;
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
    if (this.#canceled || this.#state.status === 'verified') return;
    this.#canceled = true;
    this.#controller.abort(new UploaderError('canceled', 'The upload was canceled.'));
    this.#resume?.();
    await this.#running?.catch(() => undefined);
    try {
      await this.abortRemote?.();
    } finally {
      if (this.#fingerprint) await this.#ctx.store.delete(this.#fingerprint).catch(() => undefined);
    }
  }

  #isFinal(): boolean {
    return this.#state.status === 'verified' || this.#state.status === 'failed';
  }

  #setStatus(status: UploadStatus): void {
    if (this.#state.status === status) return;
    this.#state = { ...this.#state, status };
    this.emit('status', status);
  }

  async #run(): Promise<UploadResult> {
    this.#setStatus('hashing');
    try {
      this.#fingerprint = await fingerprintOf(this.file, this.#ctx.endpoint, this.#ctx.hasher).catch((err: unknown) => {
        throw hashingError(this.file.name, err);
      });
      const driver = this.#driver();
      const { options } = this.#ctx;
      const result =
        this.file.size <= options.multipartThreshold ? await runSingle(driver) : await runMultipart(driver, this);
      this.#state = { ...this.#state, result, key: result.key, bytesUploaded: this.file.size };
      this.#setStatus('verified');
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
      this.#state = { ...this.#state, error };
      this.#setStatus('failed');
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
      get signal() {
        return upload.#controller.signal;
      },
      setStatus: (status) => {
        if (!this.#paused && !this.#canceled) this.#setStatus(status);
      },
      setKey: (key) => {
        this.#state = { ...this.#state, key };
      },
      setParts: (done, total) => {
        this.#state = { ...this.#state, partsDone: done, partCount: total };
      },
      progress: (bytes) => {
        this.#state = { ...this.#state, bytesUploaded: bytes };
        this.emit('progress', bytes, this.file.size);
      },
      emitEvent: (event, ...args) => this.emit(event, ...args),
      gate: () => this.#driverGate(),
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
