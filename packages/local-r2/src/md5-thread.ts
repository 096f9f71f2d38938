// MD5 of large bodies on a worker thread. The ETag's MD5 costs about 1.5 s per GiB; on the
// event loop it stalls receiving and writing, so a PUT ran at half the disk's speed. One thread
// per process, shared by every upload. Bytes go over in 1 MiB buffers that the worker hands back
// after hashing: a job reuses its few buffers (no fresh allocation per MiB, whose page faults and
// GC cost the event loop ~0.5 s per GiB) and a job whose buffers are all out waits (backpressure),
// so a hasher slower than the socket cannot queue the whole body in memory.
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'u') {
    let h = jobs.get(m.id);
    if (!h) jobs.set(m.id, (h = createHash('md5')));
    h.update(new Uint8Array(m.b, 0, m.n));
    parentPort.postMessage({ id: m.id, b: m.b }, [m.b]);
  } else if (m.t === 'x') {
    jobs.delete(m.id);
  } else {
    const h = jobs.get(m.id) ?? createHash('md5');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, d: h.digest() });
  }
});
`;

const BATCH = 1 << 20;
/** Buffers a job may have in the worker before `update` asks its caller to wait. */
const IN_FLIGHT = 8;

let worker: Worker | undefined;
let nextId = 1;
const jobs = new Map<number, ThreadMd5>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  w.unref(); // never keeps the process alive
  w.on('message', (m: { id: number; b?: ArrayBuffer; d?: Uint8Array }) => {
    const job = jobs.get(m.id);
    if (!job) return; // a disposed job's buffers come back after it is gone: let them go
    if (m.b) job.returned(m.b);
    else if (m.d) job.finished(Buffer.from(m.d.buffer, m.d.byteOffset, m.d.byteLength));
  });
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const job of jobs.values()) job.failed(err);
    jobs.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the MD5 thread exited (${code})`)));
  worker = w;
  return w;
}

/** An MD5 computed on the shared worker thread; `digest()` resolves once every byte is hashed. */
export class ThreadMd5 {
  readonly #id = nextId++;
  readonly #w = thread();
  /** Buffers back from the worker, ready to fill. */
  #free: ArrayBuffer[] = [];
  #out = 0;
  #cur: Uint8Array | undefined;
  #fill = 0;
  #wake: (() => void) | undefined;
  #done: { resolve(d: Buffer): void; reject(e: Error): void } | undefined;
  #error: Error | undefined;

  constructor() {
    jobs.set(this.#id, this);
  }

  /**
   * Copies `chunk` into the job's buffers and sends the full ones. Returns a promise when the
   * worker holds all the job's buffers: the caller should stop reading until it resolves.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    let off = 0;
    while (off < chunk.length) {
      // Never blocks mid-chunk: a buffer beyond the pool is allocated (at most one per call).
      this.#cur ??= new Uint8Array(this.#free.pop() ?? new ArrayBuffer(BATCH));
      const n = Math.min(chunk.length - off, BATCH - this.#fill);
      this.#cur.set(chunk.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === BATCH) this.#send();
    }
    if (this.#out < IN_FLIGHT) return undefined;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  #send(): void {
    if (!this.#cur || this.#fill === 0) return;
    const b = this.#cur.buffer as ArrayBuffer;
    this.#w.postMessage({ t: 'u', id: this.#id, b, n: this.#fill }, [b]);
    this.#out++;
    this.#cur = undefined;
    this.#fill = 0;
  }

  /** @internal a buffer the worker has hashed. */
  returned(b: ArrayBuffer): void {
    this.#out--;
    if (this.#free.length < IN_FLIGHT) this.#free.push(b);
    if (this.#wake && this.#out < IN_FLIGHT) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
  }

  /** @internal */
  finished(d: Buffer): void {
    jobs.delete(this.#id);
    this.#done?.resolve(d);
  }

  /** @internal the worker died: every waiter of this job fails. */
  failed(err: Error): void {
    this.#error = err;
    this.#done?.reject(err);
    this.#wake?.();
  }

  digest(): Promise<Buffer> {
    if (this.#error) return Promise.reject(this.#error);
    this.#send();
    return new Promise((resolve, reject) => {
      this.#done = { resolve, reject };
      this.#w.postMessage({ t: 'd', id: this.#id });
    });
  }

  /** Forgets the job (a body that failed half-way). */
  dispose(): void {
    jobs.delete(this.#id);
    this.#free = [];
    this.#cur = undefined;
    this.#wake?.();
    this.#w.postMessage({ t: 'x', id: this.#id });
  }
}
