// Interrupted uploads of this device (`engine.pending()`), and how one is continued from its kept
// file handle (`engine.resume(id)`) or forgotten (`engine.discard(id)`).
import { fileChangedError, UploaderError } from './errors.js';
import { fileChanges, fileFromHandle, type FileHandleLike } from './handles.js';
import { recordId, type UploadRecord } from './record-store.js';
import { lockName } from './tabs.js';
import type { EngineContext } from './types.js';

/** One interrupted (or running) upload, as the restore prompt shows it. */
export interface PendingUpload {
  /** Pass to `engine.resume(id)` / `engine.discard(id)`. */
  id: string;
  name: string;
  size: number;
  type: string;
  /** Bytes of the parts stored when the record was last saved (once per part). */
  bytesDone: number;
  partsDone: number;
  partCount: number;
  createdAt: number;
  /** When it last made progress (`createdAt` for records of older versions). */
  updatedAt: number;
  /** Milliseconds since it last made progress. */
  ageMs: number;
  /** The file's handle was kept: `resume(id)` reads the file again without the user choosing it. */
  hasHandle: boolean;
  /**
   * `here`: this engine is uploading it; `other-tab`: another tab of this app is (its progress comes
   * as `remote-progress` events); `undefined`: interrupted.
   */
  activeIn: 'here' | 'other-tab' | undefined;
  /** False when its token expired: only starting over (`resume(id, { restart: true })`) is left. */
  resumable: boolean;
  record: UploadRecord;
}

export interface ResumeOptions {
  /** Ask for read permission when not granted (needs a user gesture; default true). */
  requestPermission?: boolean;
  /**
   * Start over: abort the interrupted multipart upload and upload the file as it is now (after
   * `file_changed`, or when the token expired).
   */
  restart?: boolean;
  /** When another tab uploads it, wait until that tab closes and take over (default: fail `in_other_tab`). */
  waitForOtherTab?: boolean;
}

/** Records of this endpoint, newest first, with whether a tab is uploading each. */
export async function listPending(ctx: EngineContext, activeHere: Set<string>): Promise<PendingUpload[]> {
  const now = ctx.clock.now();
  const maxAge = ctx.options.abortAfterDays * 86_400_000;
  const records = (await ctx.store.list()).filter((r) => r.endpoint === ctx.endpoint && r.createdAt + maxAge > now);
  const held = new Set(await ctx.locks.held().catch(() => [] as string[]));
  return records
    .map((r): PendingUpload => {
      const updatedAt = r.updatedAt ?? r.createdAt;
      return {
        id: recordId(r),
        name: r.name,
        size: r.size,
        type: r.type,
        bytesDone: r.bytesDone ?? 0,
        partsDone: r.partsDone ?? 0,
        partCount: r.partCount,
        createdAt: r.createdAt,
        updatedAt,
        ageMs: Math.max(0, now - updatedAt),
        hasHandle: r.handle !== undefined,
        activeIn: activeHere.has(r.fingerprint) ? 'here' : held.has(lockName(r.fingerprint)) ? 'other-tab' : undefined,
        resumable: r.tokenExpiresAt > now + 60_000,
        record: r,
      };
    })
    .sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function findRecord(ctx: EngineContext, id: string): Promise<UploadRecord> {
  const all = await ctx.store.list();
  const record = all.find((r) => recordId(r) === id || r.fingerprint === id);
  if (!record) throw new UploaderError('not_resumable', 'This upload is no longer interrupted: it was finished or discarded.');
  return record;
}

/**
 * The file of an interrupted upload, read again through its kept handle (asking for permission
 * once), checked against the record: a different size or modification date is `file_changed`
 * unless `allowChanged` (the caller starts over). Parts are checked later, by the upload itself.
 */
export async function fileOfRecord(
  record: UploadRecord,
  options: { requestPermission?: boolean; allowChanged?: boolean } = {},
): Promise<{ file: File; handle: FileHandleLike }> {
  const handle = record.handle;
  if (!handle) {
    throw new UploaderError('not_resumable', `No handle to ${record.name} was kept (this browser cannot reopen files): select the file again to resume.`);
  }
  const file = await fileFromHandle(handle, { request: options.requestPermission !== false });
  const changes = fileChanges(record, file);
  if (changes.length && !options.allowChanged) throw fileChangedError(record.name, changes);
  return { file, handle };
}

/** Aborts the multipart upload through the signer (owner abort works after the token expired) and forgets the record. */
export async function discardRecord(ctx: EngineContext, record: UploadRecord): Promise<void> {
  const res = await ctx.locks.run(lockName(record.fingerprint), { wait: false }, async () => {
    await ctx.signer.abort(record.uploadId, record.token).catch(() => undefined);
    await ctx.store.delete(record.fingerprint);
  });
  if (!res.acquired) throw new UploaderError('in_other_tab', `${record.name} is being uploaded in another tab; discard it there.`);
}
