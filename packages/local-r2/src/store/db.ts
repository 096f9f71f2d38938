import Database from 'better-sqlite3';

/** One stored byte range of an object: a data file and its length. Multipart objects have one per part. */
export type Segment = [file: string, size: number];

export interface ObjectRow {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  modified: number;
  segments: Segment[];
  headers: Record<string, string>;
  meta: Record<string, string>;
  checksumAlg: string | null;
  checksumType: string | null;
  checksum: string | null;
  /** Part sizes of a multipart object (for GetObject?partNumber); null for a single PUT. */
  parts: number[] | null;
}

export interface UploadRow {
  id: string;
  bucket: string;
  key: string;
  initiated: number;
  headers: Record<string, string>;
  meta: Record<string, string>;
  checksumAlg: string | null;
  checksumType: string | null;
}

export interface PartRow {
  uploadId: string;
  partNumber: number;
  size: number;
  etag: string;
  checksumAlg: string | null;
  checksum: string | null;
  file: string;
  modified: number;
}

export interface BucketRow {
  name: string;
  created: number;
  cors: string | null;
  lifecycle: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created INTEGER NOT NULL, cors TEXT, lifecycle TEXT);
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, modified INTEGER NOT NULL,
  segments TEXT NOT NULL, headers TEXT NOT NULL, meta TEXT NOT NULL,
  checksum_alg TEXT, checksum_type TEXT, checksum TEXT, parts TEXT,
  PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiated INTEGER NOT NULL,
  headers TEXT NOT NULL, meta TEXT NOT NULL, checksum_alg TEXT, checksum_type TEXT);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  checksum_alg TEXT, checksum TEXT, file TEXT NOT NULL, modified INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;
`;

type Raw = Record<string, unknown>;

/** The columns objects and multipart uploads share: where, content headers, metadata, checksum kind. */
function sharedFields(r: Raw) {
  return {
    bucket: r.bucket as string,
    key: r.key as string,
    headers: JSON.parse(r.headers as string) as Record<string, string>,
    meta: JSON.parse(r.meta as string) as Record<string, string>,
    checksumAlg: (r.checksum_alg as string | null) ?? null,
    checksumType: (r.checksum_type as string | null) ?? null,
  };
}

function toObject(r: Raw): ObjectRow {
  return {
    ...sharedFields(r),
    size: r.size as number,
    etag: r.etag as string,
    modified: r.modified as number,
    segments: JSON.parse(r.segments as string) as Segment[],
    checksum: (r.checksum as string | null) ?? null,
    parts: r.parts ? (JSON.parse(r.parts as string) as number[]) : null,
  };
}

function toUpload(r: Raw): UploadRow {
  return {
    ...sharedFields(r),
    id: r.id as string,
    initiated: r.initiated as number,
  };
}

function toPart(r: Raw): PartRow {
  return {
    uploadId: r.upload_id as string,
    partNumber: r.part_number as number,
    size: r.size as number,
    etag: r.etag as string,
    checksumAlg: (r.checksum_alg as string | null) ?? null,
    checksum: (r.checksum as string | null) ?? null,
    file: r.file as string,
    modified: r.modified as number,
  };
}

/**
 * Metadata in SQLite, WAL mode with synchronous=NORMAL. Why not FULL: better-sqlite3 commits on
 * the event loop, and FULL's fsync per commit (~1 ms here) stalled every other request. With
 * NORMAL a commit survives kill -9 (it is in the OS page cache) and the database is never
 * corrupted; a power cut can only roll back the newest commits, and because data files are
 * fsynced before their commit, any metadata that survives points at complete bytes.
 * Keys compare as TEXT with BINARY collation = UTF-8 byte order = S3's listing order.
 */
export class MetaDb {
  readonly db: Database.Database;
  private readonly s;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const p = (sql: string) => this.db.prepare(sql);
    this.s = {
      bucketGet: p('SELECT * FROM buckets WHERE name = ?'),
      bucketList: p('SELECT * FROM buckets ORDER BY name'),
      bucketInsert: p('INSERT OR IGNORE INTO buckets (name, created) VALUES (?, ?)'),
      bucketDelete: p('DELETE FROM buckets WHERE name = ?'),
      bucketCors: p('UPDATE buckets SET cors = ? WHERE name = ?'),
      bucketLifecycle: p('UPDATE buckets SET lifecycle = ? WHERE name = ?'),
      bucketHasObjects: p('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1'),
      objGet: p('SELECT * FROM objects WHERE bucket = ? AND key = ?'),
      objPut: p(`INSERT OR REPLACE INTO objects (bucket, key, size, etag, modified, segments, headers, meta,
        checksum_alg, checksum_type, checksum, parts) VALUES (@bucket, @key, @size, @etag, @modified, @segments,
        @headers, @meta, @checksumAlg, @checksumType, @checksum, @parts)`),
      objDelete: p('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      objRange: p(
        'SELECT * FROM objects WHERE bucket = ? AND key > ? AND key < ? ORDER BY key LIMIT ?',
      ),
      objRangeIncl: p(
        'SELECT * FROM objects WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?',
      ),
      objExpired: p('SELECT bucket, key FROM objects WHERE bucket = ? AND key >= ? AND key < ? AND modified <= ?'),
      uploadGet: p('SELECT * FROM uploads WHERE id = ?'),
      uploadInsert: p(`INSERT INTO uploads (id, bucket, key, initiated, headers, meta, checksum_alg, checksum_type)
        VALUES (@id, @bucket, @key, @initiated, @headers, @meta, @checksumAlg, @checksumType)`),
      uploadDelete: p('DELETE FROM uploads WHERE id = ?'),
      uploadsAfter: p(`SELECT * FROM uploads WHERE bucket = ? AND key >= ? AND key < ?
        AND (key > ? OR (key = ? AND id > ?)) ORDER BY key, id LIMIT ?`),
      uploadsOfBucket: p('SELECT * FROM uploads WHERE bucket = ?'),
      partPut: p(`INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, checksum_alg, checksum, file, modified)
        VALUES (@uploadId, @partNumber, @size, @etag, @checksumAlg, @checksum, @file, @modified)`),
      partGet: p('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
      partsList: p('SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      partsAll: p('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
      partsDelete: p('DELETE FROM parts WHERE upload_id = ?'),
      allObjectSegments: p('SELECT segments FROM objects'),
      allPartFiles: p('SELECT file FROM parts'),
    };
  }

  close() {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private queue: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  /**
   * Group commit: writes queued in the same tick share one transaction (one fsync), each in its
   * own savepoint so one failing write does not undo the others. Resolves after the durable commit.
   */
  commit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private flush() {
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              results.push({ ok: true, value: this.db.transaction(item.fn)() });
            } catch (err) {
              results.push({ ok: false, value: err });
            }
          }
        })
        .immediate();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const r = results[i] as { ok: boolean; value: unknown };
      if (r.ok) item.resolve(r.value);
      else item.reject(r.value);
    });
  }

  getBucket(name: string): BucketRow | undefined {
    return this.s.bucketGet.get(name) as BucketRow | undefined;
  }
  listBuckets(): BucketRow[] {
    return this.s.bucketList.all() as BucketRow[];
  }
  /** Returns false when the bucket already existed. */
  createBucket(name: string, now: number): boolean {
    return this.s.bucketInsert.run(name, now).changes === 1;
  }
  bucketHasObjects(name: string): boolean {
    return this.s.bucketHasObjects.get(name) !== undefined;
  }
  deleteBucket(name: string) {
    this.s.bucketDelete.run(name);
  }
  setCors(name: string, json: string | null) {
    this.s.bucketCors.run(json, name);
  }
  setLifecycle(name: string, json: string | null) {
    this.s.bucketLifecycle.run(json, name);
  }

  getObject(bucket: string, key: string): ObjectRow | undefined {
    const r = this.s.objGet.get(bucket, key) as Raw | undefined;
    return r && toObject(r);
  }
  putObject(o: ObjectRow) {
    this.s.objPut.run({
      ...o,
      segments: JSON.stringify(o.segments),
      headers: JSON.stringify(o.headers),
      meta: JSON.stringify(o.meta),
      parts: o.parts ? JSON.stringify(o.parts) : null,
    });
  }
  deleteObject(bucket: string, key: string) {
    this.s.objDelete.run(bucket, key);
  }
  /** Objects with from < key < to (or from <= key when inclusive), in key order. */
  rangeObjects(bucket: string, from: string, to: string | Buffer, limit: number, inclusive = false): ObjectRow[] {
    const stmt = inclusive ? this.s.objRangeIncl : this.s.objRange;
    return (stmt.all(bucket, from, to, limit) as Raw[]).map(toObject);
  }
  objectsModifiedBefore(bucket: string, from: string, to: string | Buffer, before: number) {
    return this.s.objExpired.all(bucket, from, to, before) as { bucket: string; key: string }[];
  }

  getUpload(id: string): UploadRow | undefined {
    const r = this.s.uploadGet.get(id) as Raw | undefined;
    return r && toUpload(r);
  }
  createUpload(u: UploadRow) {
    this.s.uploadInsert.run({ ...u, headers: JSON.stringify(u.headers), meta: JSON.stringify(u.meta) });
  }
  deleteUpload(id: string) {
    this.s.uploadDelete.run(id);
    this.s.partsDelete.run(id);
  }
  /** Uploads in (key, id) order (ids start with the creation time, so this is also initiation order) strictly after the (key, id) marker, within [from, to). */
  uploadsAfter(bucket: string, from: string, to: string | Buffer, key: string, id: string, limit: number): UploadRow[] {
    return (this.s.uploadsAfter.all(bucket, from, to, key, key, id, limit) as Raw[]).map(toUpload);
  }
  uploadsOfBucket(bucket: string): UploadRow[] {
    return (this.s.uploadsOfBucket.all(bucket) as Raw[]).map(toUpload);
  }

  putPart(p: PartRow) {
    this.s.partPut.run(p);
  }
  getPart(uploadId: string, n: number): PartRow | undefined {
    const r = this.s.partGet.get(uploadId, n) as Raw | undefined;
    return r && toPart(r);
  }
  listParts(uploadId: string, after: number, limit: number): PartRow[] {
    return (this.s.partsList.all(uploadId, after, limit) as Raw[]).map(toPart);
  }
  allParts(uploadId: string): PartRow[] {
    return (this.s.partsAll.all(uploadId) as Raw[]).map(toPart);
  }

  /** Every data file the metadata points at (start-up garbage collection keeps exactly these). */
  referencedFiles(): Set<string> {
    const out = new Set<string>();
    for (const r of this.s.allObjectSegments.iterate() as Iterable<{ segments: string }>)
      for (const [f] of JSON.parse(r.segments) as Segment[]) out.add(f);
    for (const r of this.s.allPartFiles.iterate() as Iterable<{ file: string }>) out.add(r.file);
    return out;
  }
}
