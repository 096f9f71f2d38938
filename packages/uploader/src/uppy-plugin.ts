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
    super(uppy, opts);
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
  }

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
