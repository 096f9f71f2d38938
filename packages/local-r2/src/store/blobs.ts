import { type Cipher, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptorAt, encryptor } from '../sse-c.js';
import type { Segment } from './db.js';

/** Bytes gathered per file write: a few large writes instead of one per 64 KiB socket read. */
const WRITE_BATCH = 4 << 20;
/**
 * Written bytes between early fdatasyncs. The kernel would start writing back only past
 * dirty_background_ratio (GBs on a large box), so the final fsync used to wait for the whole body
 * while the socket sat idle; an fdatasync in the background every so often spreads the disk's
 * work over the upload and leaves the final fsync only the tail.
 */
const SYNC_EVERY = 32 << 20;

/**
 * The file end of a write: gathers chunks into WRITE_BATCH writes, one in flight while the next
 * batch fills, and fsyncs once at the end (after `final`, every byte is on disk).
 */
class FileSink extends Writable {
  #batch: Buffer[] = [];
  #bytes = 0;
  #pos = 0;
  #unsynced = 0;
  #writing: Promise<void> = Promise.resolve();
  #syncing: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly onChunk: (chunk: Buffer) => Promise<void> | void,
    private readonly cipher: Cipher | undefined,
  ) {
    super({ highWaterMark: WRITE_BATCH });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let behind: Promise<void> | void;
    try {
      if (this.#error) throw this.#error;
      behind = this.onChunk(chunk);
      const out = this.cipher ? this.cipher.update(chunk) : chunk;
      this.#batch.push(out);
      this.#bytes += out.length;
    } catch (err) {
      cb(err as Error);
      return;
    }
    const full = this.#bytes >= WRITE_BATCH ? this.#flush() : undefined;
    // The common case calls back at once: no promise per 64 KiB chunk.
    if (!behind && !full) cb();
    else Promise.all([behind, full]).then(() => cb(this.#error), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#flush()
      .then(() => this.#writing)
      .then(() => this.#syncing)
      .then(() => {
        if (this.#error) throw this.#error;
        return this.fh.sync();
      })
      .then(() => cb(), cb);
  }

  /** Starts writing the batch once the previous write is done; resolves when it has started. */
  async #flush(): Promise<void> {
    const bufs = this.#batch;
    const n = this.#bytes;
    this.#batch = [];
    this.#bytes = 0;
    await this.#writing;
    if (n === 0 || this.#error) return;
    const at = this.#pos;
    this.#pos += n;
    this.#writing = this.#writeAll(bufs, at, n).catch((err: Error) => {
      this.#error ??= err;
    });
  }

  async #writeAll(bufs: Buffer[], at: number, n: number): Promise<void> {
    let done = 0;
    while (done < n) {
      const { bytesWritten } = await this.fh.writev(done === 0 ? bufs : remaining(bufs, done), at + done);
      if (bytesWritten === 0) throw new Error('writev wrote nothing');
      done += bytesWritten;
    }
    this.#unsynced += n;
    if (this.#unsynced >= SYNC_EVERY && !this.#syncing) {
      this.#unsynced = 0;
      this.#syncing = this.fh
        .datasync()
        .catch((err: Error) => {
          this.#error ??= err;
        })
        .finally(() => (this.#syncing = undefined));
    }
  }

  /** Resolves when no write or sync is in flight (before the file is closed). */
  async idle(): Promise<void> {
    await this.#writing;
    await this.#syncing;
  }
}

/** `bufs` without its first `skip` bytes (after a short writev). */
function remaining(bufs: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) skip -= b.length;
    else {
      out.push(skip ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return out;
}

/**
 * Object bytes live in files named by random ids (never by key), sharded in 256 folders.
 * A file becomes visible only when a metadata transaction points at it, after it was fully
 * written and fsynced; files that no metadata points at are deleted at start-up.
 */
export class BlobStore {
  private readonly root: string;
  /** Files being read: deleting them waits until the last reader is done. */
  private readonly pins = new Map<string, number>();
  private readonly doomed = new Set<string>();
  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs');
  }

  async init() {
    await mkdir(this.root, { recursive: true });
    await Promise.all(
      Array.from({ length: 256 }, (_, i) => mkdir(join(this.root, i.toString(16).padStart(2, '0')), { recursive: true })),
    );
  }

  newId(): string {
    return randomBytes(16).toString('hex');
  }

  path(id: string): string {
    return join(this.root, id.slice(0, 2), id);
  }

  /**
   * Streams `source` into a new file, calling `onChunk` for every chunk (hashing, limits; a
   * promise it returns pauses reading until it resolves), then fsyncs the file and its folder.
   * Throws (and removes the file) if anything fails.
   */
  async write(id: string, source: Readable, onChunk: (chunk: Buffer) => Promise<void> | void, key?: Buffer): Promise<void> {
    const file = this.path(id);
    try {
      const fh = await open(file, 'wx');
      // SSE-C: hashing sees the plaintext, the disk sees AES-256-CTR.
      const sink = new FileSink(fh, onChunk, key ? encryptor(key, id) : undefined);
      try {
        await pipeline(source, sink);
      } finally {
        await sink.idle();
        await fh.close();
      }
      const dir = await open(join(this.root, id.slice(0, 2)), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      await unlink(file).catch(() => {});
      throw err;
    }
  }

  /**
   * Copies an object's files as hard links under new ids (O(1), no bytes move); deleting either
   * copy later only drops its own name. Returns the new segments.
   */
  async linkCopy(segments: Segment[]): Promise<Segment[]> {
    const out: Segment[] = [];
    try {
      for (const [id, size] of segments) {
        if (id === '') {
          out.push(['', size]);
          continue;
        }
        const copy = this.newId();
        await link(this.path(id), this.path(copy));
        out.push([copy, size]);
      }
      const shards = new Set(out.filter(([id]) => id !== '').map(([id]) => id.slice(0, 2)));
      for (const shard of shards) {
        const dir = await open(join(this.root, shard), 'r');
        await dir.sync().finally(() => dir.close());
      }
      return out;
    } catch (err) {
      await this.remove(out.map(([id]) => id));
      throw err;
    }
  }

  /**
   * Copies an object's files into new files re-encrypted from `fromKey` to `toKey` (either may be
   * absent), one file per segment so part boundaries survive. Streams; returns the new segments.
   */
  async recode(segments: Segment[], fromKey: Buffer | undefined, toKey: Buffer | undefined, onChunk: (c: Buffer) => void = () => {}): Promise<Segment[]> {
    const out: Segment[] = [];
    try {
      for (const [id, size] of segments) {
        if (id === '' || size === 0) {
          out.push(['', size]);
          continue;
        }
        const copy = this.newId();
        out.push([copy, size]);
        await this.write(copy, Readable.from(this.read([[id, size]], 0, size - 1, fromKey)), onChunk, toKey);
      }
      return out;
    } catch (err) {
      await this.remove(out.map(([id]) => id));
      throw err;
    }
  }

  /** Streams bytes [start, end] (inclusive) of an object made of `segments`, decrypting with `key` (SSE-C). */
  read(segments: Segment[], start: number, end: number, key?: Buffer): AsyncGenerator<Buffer> {
    const self = this;
    return (async function* () {
      let offset = 0;
      for (const [id, size] of segments) {
        const segStart = offset;
        offset += size;
        if (size === 0 || offset <= start) continue;
        if (segStart > end) break;
        const from = Math.max(start, segStart) - segStart;
        const to = Math.min(end, offset - 1) - segStart;
        if (!key) {
          yield* createReadStream(self.path(id), { start: from, end: to, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
          continue;
        }
        // CTR: start at the block holding `from` and drop the bytes before it.
        const aligned = from - (from % 16);
        const decipher = decryptorAt(key, id, aligned);
        let skip = from - aligned;
        for await (const chunk of createReadStream(self.path(id), { start: aligned, end: to, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          let plain = decipher.update(chunk);
          if (skip > 0) {
            const n = Math.min(skip, plain.length);
            plain = plain.subarray(n);
            skip -= n;
          }
          if (plain.length) yield plain;
        }
      }
    })();
  }

  /** Call synchronously right after reading metadata, so a concurrent overwrite cannot delete the files. */
  pin(segments: Segment[]): () => void {
    for (const [id] of segments) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const free: string[] = [];
      for (const [id] of segments) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n > 0) this.pins.set(id, n);
        else {
          this.pins.delete(id);
          if (this.doomed.delete(id)) free.push(id);
        }
      }
      void this.remove(free);
    };
  }

  /** Best effort: a file left behind is collected at the next start. */
  async remove(ids: Iterable<string>) {
    const now: string[] = [];
    for (const id of ids) {
      if (id === '') continue; // empty objects and parts have no file
      if (this.pins.has(id)) this.doomed.add(id);
      else now.push(id);
    }
    await Promise.all(now.map((id) => unlink(this.path(id)).catch(() => {})));
  }

  /** Deletes every data file not in `keep` (left by a crash between write and commit). */
  async collectGarbage(keep: Set<string>): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.root)) {
      for (const name of await readdir(join(this.root, shard))) {
        if (!keep.has(name)) {
          await unlink(join(this.root, shard, name)).catch(() => {});
          removed++;
        }
      }
    }
    return removed;
  }
}
