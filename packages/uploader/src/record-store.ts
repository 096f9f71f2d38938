// Where resume records live: IndexedDB in browsers (survives reloads), memory elsewhere.
// A record holds only what is needed to find the multipart upload again; part truth always
// comes from the bucket (ListParts) checked against the local file's hashes.
import { type IDBPDatabase, openDB } from 'idb';
import type { FileHandleLike } from './handles.js';

export interface UploadRecord {
  /** `fingerprintOf(file)`, also the store key. */
  fingerprint: string;
  endpoint: string;
  name: string;
  type: string;
  size: number;
  lastModified: number;
  key: string;
  uploadId: string;
  token: string;
  tokenExpiresAt: number;
  partSize: number;
  partCount: number;
  checksumAlgorithm: string;
  createdAt: number;
  /** Short id for `engine.pending()` / `engine.resume(id)` (records of older versions have none: their fingerprint is used). */
  id?: string;
  /** The file's `FileSystemFileHandle` when it came from Chute's picker or a drop in Chromium: resume without re-selecting. */
  handle?: FileHandleLike;
  /** Progress when last saved (once per stored part). */
  bytesDone?: number;
  partsDone?: number;
  updatedAt?: number;
}

/** The id under which `engine.pending()` lists a record. */
export const recordId = (r: UploadRecord): string => r.id ?? r.fingerprint;

export interface RecordStore {
  get(fingerprint: string): Promise<UploadRecord | undefined>;
  put(record: UploadRecord): Promise<void>;
  delete(fingerprint: string): Promise<void>;
  list(): Promise<UploadRecord[]>;
}

export class MemoryRecordStore implements RecordStore {
  readonly #map = new Map<string, UploadRecord>();
  async get(fp: string) {
    return this.#map.get(fp);
  }
  async put(record: UploadRecord) {
    this.#map.set(record.fingerprint, record);
  }
  async delete(fp: string) {
    this.#map.delete(fp);
  }
  async list() {
    return [...this.#map.values()];
  }
}

const STORE = 'uploads';

/**
 * Records in IndexedDB. If the database cannot be opened (private modes, blocked storage), the
 * store degrades to memory: uploads still work, they just cannot resume after a reload.
 */
export class IndexedDbRecordStore implements RecordStore {
  readonly #db: Promise<IDBPDatabase | MemoryRecordStore>;

  constructor(name = 'chute-uploads') {
    this.#db = openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: 'fingerprint' });
      },
    }).catch(() => new MemoryRecordStore());
  }

  async get(fp: string): Promise<UploadRecord | undefined> {
    const db = await this.#db;
    return db instanceof MemoryRecordStore ? db.get(fp) : db.get(STORE, fp);
  }
  async put(record: UploadRecord): Promise<void> {
    const db = await this.#db;
    if (db instanceof MemoryRecordStore) return db.put(record);
    // 'strict': flushed to disk before it resolves. With the default ('relaxed' in Chromium) a
    // crashed or killed browser lost the last commits — measured: the record 4 parts behind.
    const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(record), tx.done]);
  }
  async delete(fp: string): Promise<void> {
    const db = await this.#db;
    await (db instanceof MemoryRecordStore ? db.delete(fp) : db.delete(STORE, fp));
  }
  async list(): Promise<UploadRecord[]> {
    const db = await this.#db;
    return db instanceof MemoryRecordStore ? db.list() : db.getAll(STORE);
  }
}

/** IndexedDB when the platform has it (private modes may not), else memory. */
export function defaultRecordStore(): RecordStore {
  return typeof indexedDB === 'undefined' ? new MemoryRecordStore() : new IndexedDbRecordStore();
}

const DAY_MS = 86_400_000;

/**
 * Forgets records nothing can be done with any more: those older than the bucket's abort rule
 * (`abortAfterDays`; the bucket dropped their parts), and those whose token expired and that kept no
 * file handle (they cannot resume, and re-selecting the file starts afresh anyway) — the latter are
 * aborted first through `abort` (the signer lets the owner abort with an expired token). Records
 * with a handle stay listed until the abort rule: the user may start them over with one click.
 */
export async function pruneRecords(
  store: RecordStore,
  now: number,
  options: { abortAfterDays: number; abort?: (r: UploadRecord) => Promise<void> },
): Promise<void> {
  for (const r of await store.list()) {
    const stale = r.createdAt + options.abortAfterDays * DAY_MS <= now;
    const expired = r.tokenExpiresAt <= now && !r.handle;
    if (!stale && !expired) continue;
    if (!stale) await options.abort?.(r).catch(() => undefined);
    await store.delete(r.fingerprint);
  }
}
