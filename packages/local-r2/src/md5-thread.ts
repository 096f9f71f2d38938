// MD5 of large bodies on a worker thread. The ETag's MD5 costs about 1.5 s per GiB; on the
// event loop it stalls receiving and writing, so a PUT ran at half the disk's speed. One thread
// per process, shared by every upload; bytes go over in 1 MiB batches (one copy each) and the
// digest comes back when the body has been read.
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'u') {
    let h = jobs.get(m.id);
    if (!h) jobs.set(m.id, (h = createHash('md5')));
    h.update(m.b);
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

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve(d: Buffer): void; reject(e: Error): void }>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  w.unref(); // never keeps the process alive
  w.on('message', (m: { id: number; d: Uint8Array }) => {
    waiting.get(m.id)?.resolve(Buffer.from(m.d.buffer, m.d.byteOffset, m.d.byteLength));
    waiting.delete(m.id);
  });
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
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
  #pending: Buffer[] = [];
  #bytes = 0;

  update(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= BATCH) this.#flush();
  }

  #flush(): void {
    if (this.#bytes === 0) return;
    const b = Buffer.concat(this.#pending, this.#bytes);
    this.#pending = [];
    this.#bytes = 0;
    // A batch that owns its whole ArrayBuffer moves without a second copy.
    const own = b.byteOffset === 0 && b.buffer.byteLength === b.length && b.buffer instanceof ArrayBuffer;
    this.#w.postMessage({ t: 'u', id: this.#id, b }, own ? [b.buffer as ArrayBuffer] : []);
  }

  digest(): Promise<Buffer> {
    this.#flush();
    return new Promise((resolve, reject) => {
      waiting.set(this.#id, { resolve, reject });
      this.#w.postMessage({ t: 'd', id: this.#id });
    });
  }

  /** Forgets the job (a body that failed half-way). */
  dispose(): void {
    this.#pending = [];
    this.#w.postMessage({ t: 'x', id: this.#id });
  }
}
