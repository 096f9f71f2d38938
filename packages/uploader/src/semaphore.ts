// A counting semaphore shared by all uploads of one engine: it bounds the requests in flight at the
// store (Chrome queues beyond 6 HTTP/1.1 connections per host anyway) and the files being prepared.
// Waiters are served in FIFO order, so files move through the pipeline in the order they came.

export class Semaphore {
  #size: number;
  #free: number;
  readonly #waiters: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`semaphore size must be >= 1, got ${size}`);
    this.#size = size;
    this.#free = size;
  }

  get size(): number {
    return this.#size;
  }

  get inUse(): number {
    return this.#size - this.#free;
  }

  /** Changes the size; holders keep their permits (a smaller size takes effect as they release). */
  resize(size: number): void {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`semaphore size must be >= 1, got ${size}`);
    this.#free += size - this.#size;
    this.#size = size;
    while (this.#free > 0 && this.#waiters.length > 0) {
      this.#free--;
      (this.#waiters.shift() as () => void)();
    }
  }

  /** Resolves with a release function; releasing twice is harmless. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.#waiters.indexOf(grant);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(grant);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A permit given back while the semaphore is over its (shrunk) size is not handed on.
      if (this.#free < 0) {
        this.#free++;
        return;
      }
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
