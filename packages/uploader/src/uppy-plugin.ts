// A thin bridge from @uppy/core 6 to the Chute engine: Uppy owns the file list and the UI; the
// engine owns hashing, parallel parts, recovery and verified resume. Dashboard progress, ETA,
// pause/resume/retry and the usual events work as with any Uppy uploader.
import type { Verification } from '@chute/protocol';
import {
  BasePlugin,
  type Body,
  EventManager,
  type Meta,
  type PluginOpts,
  type Uppy,
  type UppyFile,
} from '@uppy/core';
import { ChuteEngine, type ChuteEngineOptions } from './engine.js';
import { isAbortLike, UploaderError } from './errors.js';
import type { FileHandleLike } from './handles.js';
import type { ResumeOptions } from './pending.js';
import type { UploadRecord } from './record-store.js';
import type { UploadStatus } from './types.js';
import type { Upload } from './upload.js';

/** Per-file state the plugin keeps in Uppy's store (`state.plugins[id].files[fileId]`). */
export interface ChuteFileState {
  status: UploadStatus;
  key?: string;
  /** The algorithm and value the bucket confirmed (set only when verified and the store returned one). */
  verifiedBy?: { algorithm: string; value: string };
  /** What was checked and how strongly; `not-verifiable` is stored with a warning, not failed. */
  verification?: Verification;
  keptParts?: number;
  sentParts?: number;
  error?: { code: string; message: string };
}

export interface ChutePluginState extends Record<string, unknown> {
  files: Record<string, ChuteFileState>;
}

/** `upload-success` body: Uppy's usual `location` and `key`, plus what Chute verified. */
export interface ChuteBody extends Body {
  location: string;
  key: string;
  etag: string;
  verification: Verification;
  verifiedBy?: { algorithm: string; value: string };
}

export type ChutePluginOptions = PluginOpts &
  Partial<ChuteEngineOptions> & {
    /** Share one engine between plugins/pages; otherwise one is made from the other options. */
    engine?: ChuteEngine;
    /** Which Uppy meta fields go to the signer as object metadata (default: none). */
    allowedMetaFields?: string[];
    /**
     * A selection of more files than this (a drop, the file input, `uppy.addFiles`) is handed to
     * Uppy in slices, one task each, sized to about 30 ms of main-thread work (default 50; 0 or
     * `false`: all at once, as stock Uppy). Adding 1,000 files in one `addFiles` blocks Chromium's
     * main thread for 0.5–1 s: Uppy's file id reads each picked File's size and date, a
     * synchronous round trip to the browser process the first time, and Uppy copies its whole
     * file map once per file added. `uppy.upload()` called meanwhile waits for the whole selection.
     */
    addFilesSlice?: number | false;
  };

type AddFiles<M extends Meta, B extends Body> = Uppy<M, B>['addFiles'];
type Descriptors<M extends Meta, B extends Body> = Parameters<AddFiles<M, B>>[0];

/** Slices of a large selection: the first (in the input's change event), then ~SLICE_BUDGET_MS each. */
const FIRST_SLICE = 20;
const MIN_SLICE = 5;
const MAX_SLICE = 500;
const SLICE_BUDGET_MS = 30;

/** Gives the event loop a turn (input, rendering) before going on. */
const yieldToEventLoop = (): Promise<void> => {
  const s = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  return typeof s?.yield === 'function' ? s.yield() : new Promise((r) => setTimeout(r, 0));
};

export class ChuteUppyPlugin<M extends Meta, B extends Body> extends BasePlugin<ChutePluginOptions, M, B, ChutePluginState> {
  static VERSION = '0.1.0';
  readonly engine: ChuteEngine;
  readonly #active = new Map<string, Upload>();
  /** Failed uploads keep their multipart upload for a retry; removing the file aborts it. */
  readonly #failed = new Map<string, Upload>();
  /** File handles from Chute's picker or a drop, by name|size|lastModified, until the file uploads. */
  readonly #handles = new Map<string, { handle: FileHandleLike; resumeOf?: UploadRecord | undefined; waitForOtherTab?: boolean }>();
  readonly #handlesPending = new Set<Promise<unknown>>();

  constructor(uppy: Uppy<M, B>, opts: ChutePluginOptions) {
    super(uppy, { addFilesSlice: 50, ...opts });
    this.id = opts.id ?? 'Chute';
    this.type = 'uploader';
    if (opts.engine) this.engine = opts.engine;
    else if (opts.endpoint !== undefined) this.engine = new ChuteEngine(opts as ChuteEngineOptions);
    else throw new TypeError('ChuteUppyPlugin needs `endpoint` (the signer URL) or an `engine`.');
  }

  override install(): void {
    this.setPluginState({ files: {} });
    const { capabilities } = this.uppy.getState();
    this.uppy.setState({ capabilities: { ...capabilities, resumableUploads: true } });
    this.uppy.addUploader(this.#upload);
    this.uppy.on('file-removed', this.#onFileRemoved);
    this.uppy.on('cancel-all', this.#dropQueued);
    // Own properties shadowing Uppy's methods (removed again in uninstall).
    this.#stockAddFiles = this.uppy.addFiles;
    this.#stockUpload = this.uppy.upload;
    Object.assign(this.uppy, { addFiles: this.#addFiles, upload: this.#uploadAfterAdding });
  }

  #stockAddFiles: AddFiles<M, B> | undefined;
  #stockUpload: Uppy<M, B>['upload'] | undefined;
  /** Descriptors of a large selection still to hand to Uppy, and the run that does it. */
  readonly #queued: Descriptors<M, B> = [];
  #adding: Promise<void> | undefined;
  #deferredUpload: ReturnType<Uppy<M, B>['upload']> | undefined;

  /** "Cancel" (cancelAll) while a selection is being added: the rest of it is not added. */
  #dropQueued = (): void => {
    this.#queued.length = 0;
  };

  /** Whether files are still being added in slices (`uppy.upload()` waits for them). */
  get addingFiles(): boolean {
    return this.#adding !== undefined;
  }

  #addFiles = (descriptors: Descriptors<M, B>): void => {
    const stock = this.#stockAddFiles as AddFiles<M, B>;
    const slice = this.opts.addFilesSlice || 0;
    const { maxNumberOfFiles, maxTotalFileSize } = this.uppy.opts.restrictions;
    const present = this.#queued.length + this.uppy.getFiles().filter((f) => !f.isGhost).length;
    // Uppy refuses a selection over maxNumberOfFiles (or maxTotalFileSize) as a whole: let it.
    const whole =
      slice <= 0 ||
      !!maxTotalFileSize ||
      (!!maxNumberOfFiles && present + descriptors.length > maxNumberOfFiles) ||
      (descriptors.length <= slice && !this.#adding);
    if (whole && !this.#adding) {
      stock.call(this.uppy, descriptors);
      return;
    }
    if (this.#adding) {
      this.#queued.push(...descriptors);
      return;
    }
    // The first slice now: what it throws (onBeforeFileAdded) is thrown as before and the rest dropped.
    const first = Math.min(slice, FIRST_SLICE);
    const t0 = performance.now();
    stock.call(this.uppy, descriptors.slice(0, first));
    const perFile = (performance.now() - t0) / first;
    this.#queued.push(...descriptors.slice(first));
    this.#adding = this.#addQueued(stock, perFile).finally(() => {
      this.#adding = undefined;
    });
  };

  /** The rest of a large selection, one slice per task, each sized from the last one's cost per file. */
  async #addQueued(stock: AddFiles<M, B>, perFileMs: number): Promise<void> {
    let perFile = perFileMs;
    while (this.#queued.length > 0) {
      await yieldToEventLoop();
      const size = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.floor(SLICE_BUDGET_MS / Math.max(perFile, 0.001))));
      const next = this.#queued.splice(0, size);
      const t0 = performance.now();
      try {
        stock.call(this.uppy, next);
      } catch (err) {
        // Uppy has shown it (info) already; the other slices still go in.
        this.uppy.log(err instanceof Error ? err : String(err), 'warning');
      }
      perFile = (performance.now() - t0) / next.length;
    }
  }

  /**
   * `uppy.upload()` while a selection is still being added: one upload of all of it once added
   * (with autoProceed and several batches allowed, each slice starts its own batch instead).
   */
  #uploadAfterAdding = (): ReturnType<Uppy<M, B>['upload']> => {
    const stock = this.#stockUpload as Uppy<M, B>['upload'];
    const { autoProceed, allowMultipleUploadBatches } = this.uppy.opts;
    if (!this.#adding || (autoProceed && allowMultipleUploadBatches !== false)) return stock.call(this.uppy);
    this.#deferredUpload ??= this.#adding.then(() => {
      this.#deferredUpload = undefined;
      return stock.call(this.uppy);
    });
    return this.#deferredUpload;
  };

  #onFileRemoved = (file: UppyFile<M, B>): void => {
    const failed = this.#failed.get(file.id);
    this.#failed.delete(file.id);
    this.#pendingPatches.delete(file.id);
    void failed?.cancel();
    const files = { ...this.getPluginState().files };
    delete files[file.id];
    this.setPluginState({ files });
  };

  override uninstall(): void {
    this.uppy.removeUploader(this.#upload);
    this.uppy.off('file-removed', this.#onFileRemoved);
    this.uppy.off('cancel-all', this.#dropQueued);
    this.#dropQueued();
    const own = this.uppy as unknown as Record<string, unknown>;
    if (own.addFiles === this.#addFiles) delete own.addFiles;
    if (own.upload === this.#uploadAfterAdding) delete own.upload;
    this.#flushFiles();
    // Pause (not cancel): the multipart uploads stay resumable after the plugin goes away.
    for (const upload of this.#active.values()) upload.pause();
    this.#active.clear();
  }

  /**
   * Keeps a file's `FileSystemFileHandle` (from `pickFiles()` or `handlesFromDrop()`): when that
   * file uploads, the handle is stored with its resume record, so a later visit resumes it
   * without re-selecting. Pass a promise to cover handles still being resolved (a drop).
   */
  rememberHandles(handles: FileHandleLike[] | Promise<FileHandleLike[]>): Promise<void> {
    const done = Promise.resolve(handles).then(async (list) => {
      for (const handle of list) {
        const file = await handle.getFile().catch(() => undefined);
        if (file) this.#handles.set(fileKey(file), { handle });
      }
    });
    const tracked = done.catch(() => undefined);
    this.#handlesPending.add(tracked);
    void tracked.finally(() => this.#handlesPending.delete(tracked));
    return tracked;
  }

  /**
   * Continues an interrupted upload from its kept handle (`engine.pending()` ids): reads the file
   * again (asking for permission once), adds it to Uppy — a Golden Retriever ghost becomes the
   * file again — and uploads it, keeping the parts the bucket holds after checking them.
   * Fails `file_changed` when the file differs; `restart: true` then aborts the old upload and
   * sends the file as it is now. Resolves with the Uppy file id once the upload started.
   */
  async resumePending(id: string, options: ResumeOptions = {}): Promise<string> {
    const { file, handle, record } = await this.engine.fileOf(id, {
      ...(options.requestPermission === false ? { requestPermission: false } : {}),
      ...(options.restart ? { allowChanged: true } : {}),
    });
    if (options.restart) await this.engine.discard(record);
    this.#handles.set(fileKey(file), {
      handle,
      ...(options.restart ? {} : { resumeOf: record }),
      ...(options.waitForOtherTab ? { waitForOtherTab: true } : {}),
    });
    const existing = this.uppy.getFiles().find((f) => !f.isGhost && f.data instanceof Blob && f.name === file.name && f.size === file.size);
    const fileId = existing?.id ?? this.uppy.addFile({ name: file.name, type: file.type, data: file, source: this.id });
    void this.uppy.retryUpload(fileId);
    return fileId;
  }

  /** The Chute state of one file (undefined before it starts). */
  fileState(fileId: string): ChuteFileState | undefined {
    const pending = this.#pendingPatches.get(fileId);
    const current = this.getPluginState().files[fileId];
    return pending ? { ...(current ?? { status: 'hashing' }), ...pending } : current;
  }

  // Status changes of many files (1,000 selected at once all go "hashing" → "uploading" → …)
  // are merged into one plugin-state update per tick instead of one each: every Uppy setState
  // copies the state and runs every subscriber (Dashboard, React) over all files. A final status
  // (verified, failed) is written at once, before upload-success / upload-error is emitted.
  #pendingPatches = new Map<string, Partial<ChuteFileState>>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  #setFile(fileId: string, patch: Partial<ChuteFileState>): void {
    this.#pendingPatches.set(fileId, { ...this.#pendingPatches.get(fileId), ...patch });
    if (patch.status === 'verified' || patch.status === 'failed') this.#flushFiles();
    else this.#flushTimer ??= setTimeout(() => this.#flushFiles(), 16);
  }

  #flushFiles(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#pendingPatches.size === 0) return;
    const files = { ...this.getPluginState().files };
    for (const [id, patch] of this.#pendingPatches) files[id] = { ...(files[id] ?? { status: 'hashing' }), ...patch };
    this.#pendingPatches.clear();
    this.setPluginState({ files });
  }

  #upload = async (fileIDs: string[]): Promise<void> => {
    const files = this.uppy.getFilesByIds(fileIDs);
    this.uppy.emit(
      'upload-start',
      files.filter((f) => !f.progress.uploadStarted || !f.isRestored),
    );
    // Started in slices of 25 with a yield between them: setting up 1,000 uploads in one go
    // (engine records, listeners, first state updates) would block the main thread for a second.
    const runs: Promise<void>[] = [];
    for (let i = 0; i < files.length; i++) {
      if (i > 0 && i % 25 === 0) await new Promise((r) => setTimeout(r, 0));
      runs.push(this.#uploadFile(files[i] as UppyFile<M, B>));
    }
    await Promise.allSettled(runs);
  };

  async #uploadFile(file: UppyFile<M, B>): Promise<void> {
    if (file.isRemote || !(file.data instanceof Blob)) {
      const error = new UploaderError('bad_request', `${file.name} has no local data: re-select the file to resume it.`);
      this.uppy.emit('upload-error', file, error);
      return;
    }
    const blob = file.data;
    const named = Object.assign(blob.slice(0, blob.size, file.type), {
      name: file.name ?? 'file',
      lastModified: blob instanceof File ? blob.lastModified : 0,
    });
    // `slice` keeps the File's bytes lazily but loses its name/date: restore them for the fingerprint.
    const source = blob instanceof File ? blob : named;
    const metadata = this.#metadataOf(file);
    if (this.#handlesPending.size) await Promise.all([...this.#handlesPending]);
    const kept = this.#handles.get(fileKey(source));
    const upload = this.engine.add(source, {
      id: file.id,
      ...(metadata ? { metadata } : {}),
      ...(kept?.handle ? { handle: kept.handle } : {}),
      ...(kept?.resumeOf ? { resumeOf: kept.resumeOf } : {}),
      ...(kept?.waitForOtherTab ? { waitForOtherTab: true } : {}),
    });
    this.#active.get(file.id)?.pause();
    this.#active.set(file.id, upload);
    this.#failed.delete(file.id);
    const events = new EventManager(this.uppy);
    const started = Date.now();
    upload.on('status', (status) => this.#setFile(file.id, { status }));
    upload.on('progress', (bytesUploaded, bytesTotal) => {
      const current = this.uppy.getFile(file.id);
      if (!current) return;
      this.uppy.emit('upload-progress', current, {
        uploadStarted: current.progress.uploadStarted ?? started,
        bytesUploaded,
        bytesTotal,
      });
    });
    events.onFileRemove(file.id, () => void upload.cancel());
    events.onCancelAll(file.id, () => void upload.cancel());
    events.onFilePause(file.id, (isPaused) => (isPaused ? upload.pause() : upload.resume()));
    events.onPauseAll(file.id, () => upload.pause());
    events.onResumeAll(file.id, () => upload.resume());
    if (this.uppy.getFile(file.id)?.isPaused) upload.pause();
    try {
      const result = await upload.start();
      this.#setFile(file.id, {
        status: 'verified',
        key: result.key,
        verification: result.verification,
        ...(result.verifiedBy ? { verifiedBy: result.verifiedBy } : {}),
        keptParts: result.keptParts,
        sentParts: result.sentParts,
      });
      const body: ChuteBody = {
        location: result.location,
        key: result.key,
        etag: result.etag,
        verification: result.verification,
        ...(result.verifiedBy ? { verifiedBy: result.verifiedBy } : {}),
      };
      const current = this.uppy.getFile(file.id);
      if (current) {
        this.uppy.emit('upload-success', current, {
          status: 200,
          body: body as unknown as B,
          uploadURL: result.location,
        });
      }
    } catch (err) {
      if (isAbortLike(err)) return;
      const error = err instanceof UploaderError ? err : new UploaderError('bad_response', String(err));
      this.#setFile(file.id, { status: 'failed', error: { code: error.code, message: error.message } });
      const current = this.uppy.getFile(file.id);
      if (current) {
        this.#failed.set(file.id, upload);
        this.uppy.emit('upload-error', current, error);
      }
    } finally {
      events.remove();
      if (this.#active.get(file.id) === upload) this.#active.delete(file.id);
      // The engine forgets finished uploads (a retry makes a new one that resumes from the bucket).
      if (this.engine.get(file.id) === upload) this.engine.remove(file.id);
    }
  }

  #metadataOf(file: UppyFile<M, B>): Record<string, string> | undefined {
    const fields = this.opts.allowedMetaFields;
    if (!fields?.length) return undefined;
    const out: Record<string, string> = {};
    for (const f of fields) {
      const v = file.meta[f];
      if (v !== undefined && v !== null) out[f.toLowerCase()] = String(v);
    }
    return out;
  }
}

const fileKey = (f: { name: string; size: number; lastModified?: number }) => `${f.name}|${f.size}|${f.lastModified ?? 0}`;
