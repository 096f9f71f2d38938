import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptorAt, encryptor } from '../sse-c.js';
import type { Segment } from './db.js';

/** Bytes buffered per stage of a write (socket → hash → file): 4 MiB keeps a 2-core box busy. */
const WRITE_BUFFER = 4 << 20;

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
   * Streams `source` into a new file, calling `onChunk` for every chunk (hashing, limits), then
   * fsyncs the file and its folder. Throws (and removes the file) if anything fails.
   */
  async write(id: string, source: Readable, onChunk: (chunk: Buffer) => void, key?: Buffer): Promise<void> {
    const file = this.path(id);
    // SSE-C: hashing sees the plaintext, the disk sees AES-256-CTR.
    const cipher = key ? encryptor(key, id) : undefined;
    try {
      // Deep buffers on both sides: the socket keeps flowing (and hashing keeps the CPU busy)
      // while a write is in the thread pool, instead of pausing at every 16 KiB.
      const tap = new Transform({
        writableHighWaterMark: WRITE_BUFFER,
        readableHighWaterMark: WRITE_BUFFER,
        transform(chunk: Buffer, _enc, cb) {
          try {
            onChunk(chunk);
            cb(null, cipher ? cipher.update(chunk) : chunk);
          } catch (err) {
            cb(err as Error);
          }
        },
      });
      await pipeline(source, tap, createWriteStream(file, { flags: 'wx', flush: true, highWaterMark: WRITE_BUFFER }));
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
