// File System Access handles (Chromium): a `FileSystemFileHandle` kept with the upload's record in
// IndexedDB lets a later visit — after a crash, a browser restart, in another tab — read the
// same file again without the user picking it. Everything here is behind feature detection:
// where the API is missing (Firefox, Safari) the functions report it and uploads resume by
// re-selecting the file, as before.
import { UploaderError } from './errors.js';

/** The part of `FileSystemFileHandle` the engine uses (the permission methods are Chromium's). */
export interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File>;
  queryPermission?(descriptor: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
  requestPermission?(descriptor: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
}

/** A file and, where the browser has the API, its handle. */
export interface PickedFile {
  file: File;
  handle?: FileHandleLike;
}

type PickerWindow = { showOpenFilePicker?: (options?: { multiple?: boolean }) => Promise<FileHandleLike[]> };
type HandleItem = DataTransferItem & { getAsFileSystemHandle?: () => Promise<{ kind: string } | null> };

/**
 * True where a file handle can be stored in IndexedDB and read again later (Chromium 86+ in a
 * secure context). False in Firefox and Safari, whose handles cannot come from a picker or a drop.
 */
export function supportsFileHandles(): boolean {
  const g = globalThis as unknown as PickerWindow & { FileSystemFileHandle?: { prototype?: object }; isSecureContext?: boolean };
  const proto = g.FileSystemFileHandle?.prototype;
  return (
    typeof indexedDB !== 'undefined' &&
    typeof g.showOpenFilePicker === 'function' &&
    proto !== undefined &&
    'getFile' in proto &&
    g.isSecureContext !== false
  );
}

/** Whether a value looks like a file handle (kept in a record). */
export function isFileHandle(value: unknown): value is FileHandleLike {
  return typeof value === 'object' && value !== null && (value as FileHandleLike).kind === 'file' && typeof (value as FileHandleLike).getFile === 'function';
}

/**
 * Opens the browser's file picker and returns the files with their handles, or `undefined` where
 * there is no such picker (use an `<input type=file>` then). An empty array: the user canceled.
 */
export async function pickFiles(options: { multiple?: boolean } = {}): Promise<PickedFile[] | undefined> {
  const g = globalThis as unknown as PickerWindow;
  if (!supportsFileHandles() || !g.showOpenFilePicker) return undefined;
  let handles: FileHandleLike[];
  try {
    handles = await g.showOpenFilePicker({ multiple: options.multiple ?? true });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') return [];
    throw err;
  }
  return Promise.all(handles.map(async (handle) => ({ file: await handle.getFile(), handle })));
}

/**
 * Handles of the files of a drop, in the order of `dataTransfer.items`. Must be called during the
 * `drop` event itself (the items are emptied when the handler returns); the promise may be
 * awaited later. Resolves to `[]` where the API is missing; directories are left out.
 */
export function handlesFromDrop(dataTransfer: DataTransfer | null): Promise<FileHandleLike[]> {
  if (!dataTransfer || !supportsFileHandles()) return Promise.resolve([]);
  const pending: Promise<unknown>[] = [];
  for (const item of Array.from(dataTransfer.items) as HandleItem[]) {
    if (item.kind === 'file' && typeof item.getAsFileSystemHandle === 'function') {
      pending.push(item.getAsFileSystemHandle().catch(() => null));
    }
  }
  return Promise.all(pending).then((all) => all.filter(isFileHandle));
}

/**
 * The file behind a stored handle. Asks for read permission when it is not granted already —
 * `requestPermission` needs a user gesture (a click on "Resume"), so pass `request: false` when
 * there is none: a handle without permission then throws `permission_required`.
 */
export async function fileFromHandle(handle: FileHandleLike, options: { request?: boolean } = {}): Promise<File> {
  const descriptor = { mode: 'read' as const };
  let state: PermissionState = (await handle.queryPermission?.(descriptor).catch(() => 'prompt' as const)) ?? 'granted';
  if (state !== 'granted' && options.request !== false && handle.requestPermission) {
    state = await handle.requestPermission(descriptor).catch(() => 'denied' as const);
  }
  if (state !== 'granted') {
    throw new UploaderError(
      state === 'denied' ? 'permission_denied' : 'permission_required',
      state === 'denied'
        ? `Reading ${handle.name} again was not allowed; select the file to resume the upload.`
        : `${handle.name} needs permission to be read again: click Resume.`,
    );
  }
  try {
    return await handle.getFile();
  } catch (err) {
    throw new UploaderError('file_unreadable', `${handle.name} could not be opened: it may have been moved or deleted.`, { cause: err });
  }
}

/** What differs between a file now and the one an upload started with (empty: the same). */
export function fileChanges(record: { size: number; lastModified: number }, file: { size: number; lastModified?: number }): string[] {
  const changes: string[] = [];
  if (file.size !== record.size) changes.push(`size ${record.size} → ${file.size} bytes`);
  if ((file.lastModified ?? 0) !== record.lastModified) {
    changes.push(`modified ${new Date(record.lastModified).toISOString()} → ${new Date(file.lastModified ?? 0).toISOString()}`);
  }
  return changes;
}
