// A pool of hashing workers with a FIFO queue. Workers start lazily and are reused; the queue
// order is the order parts were asked for, so earlier parts are hashed first.
import { bytesToHex } from './encoding.js';
import type { HashOptions, HashRequest, HashResponse, PartDigest } from './hash-messages.js';
import { probeBytesOf } from './probe.js';

/** What the engine needs from a hasher (a worker pool in browsers; anything in tests). */
export interface PartHasher {
  hashPart(blob: Blob, start: number, end: number, options: HashOptions): Promise<PartDigest>;
  /** A short content probe of the file (first and last bytes) for its fingerprint. */
  probe(blob: Blob, probeBytes: number): Promise<string>;
  terminate(): void;
}

export type WorkerFactory = () => Worker;

export const defaultWorkerFactory: WorkerFactory = () =>
  new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module', name: 'chute-hash' });

/** Pool size from the CPU count: leave a core for the page, never fewer than one worker. */
export function defaultPoolSize(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(cores - 1, 4));
}

type Job = { req: HashRequest; resolve: (res: HashResponse) => void; reject: (err: Error) => void };

export class WorkerHashPool implements PartHasher {
  readonly #factory: WorkerFactory;
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #queue: Job[] = [];
  #started = 0;
  #nextId = 1;
  #terminated = false;

  constructor(options: { size?: number; workerFactory?: WorkerFactory } = {}) {
    this.#size = Math.max(1, options.size ?? defaultPoolSize());
    this.#factory = options.workerFactory ?? defaultWorkerFactory;
  }

  get size(): number {
    return this.#size;
  }

  async hashPart(blob: Blob, start: number, end: number, options: HashOptions): Promise<PartDigest> {
    const res = await this.#run({ id: this.#nextId++, type: 'part', blob, start, end, options });
    if (!res.ok) throw new Error(`hashing failed: ${res.error}`);
    if (!('digest' in res)) throw new Error('hash worker answered a part with a probe');
    return res.digest;
  }

  async probe(blob: Blob, probeBytes: number): Promise<string> {
    // SHA-256 of 128 KiB is native and asynchronous here: the first create need not wait for a
    // worker to start and load its WASM. Without SubtleCrypto (an insecure context) a worker does it.
    if (globalThis.crypto?.subtle) {
      return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', await probeBytesOf(blob, probeBytes))));
    }
    const res = await this.#run({ id: this.#nextId++, type: 'probe', blob, probeBytes });
    if (!res.ok) throw new Error(`hashing failed: ${res.error}`);
    if (!('probe' in res)) throw new Error('hash worker answered a probe with a part');
    return res.probe;
  }

  terminate(): void {
    this.#terminated = true;
    for (const w of [...this.#idle, ...this.#busy.keys()]) w.terminate();
    for (const job of [...this.#queue, ...this.#busy.values()]) job.reject(new Error('hash pool terminated'));
    this.#idle.length = 0;
    this.#busy.clear();
    this.#queue.length = 0;
  }

  #run(req: HashRequest): Promise<HashResponse> {
    if (this.#terminated) return Promise.reject(new Error('hash pool terminated'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ req, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (!worker && this.#started < this.#size) worker = this.#spawn();
      if (!worker) return;
      const job = this.#queue.shift() as Job;
      this.#busy.set(worker, job);
      worker.postMessage(job.req);
    }
  }

  #spawn(): Worker {
    this.#started++;
    const worker = this.#factory();
    worker.onmessage = (event: MessageEvent<HashResponse>) => {
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      this.#idle.push(worker);
      job?.resolve(event.data);
      this.#pump();
    };
    worker.onerror = (event) => {
      // A worker that fails to load (CSP without 'wasm-unsafe-eval', bad URL) fails its job
      // and is replaced on the next request.
      event.preventDefault();
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      this.#started--;
      worker.terminate();
      job?.reject(new Error(`hash worker error: ${event.message || 'failed to load'}`));
      this.#pump();
    };
    return worker;
  }
}
