// One upload, one uploader: tabs of the same app coordinate through Web Locks (a lock per file
// while it uploads) and a BroadcastChannel (progress for the tabs that do not hold the lock).
// Both are feature-detected; without them each tab works alone, as before.

/** Exclusive named locks held while a callback runs (`navigator.locks` in browsers). */
export interface Locks {
  /**
   * Runs `fn` holding the lock `name`. `wait: false`: if another holder has it, resolves to
   * `{ acquired: false }` at once; `wait: true`: waits for it (until `signal` aborts).
   */
  run<T>(name: string, options: { wait: boolean; signal?: AbortSignal }, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /** Names of the locks held now, by any tab of this origin. */
  held(): Promise<string[]>;
}

type LockManagerLike = {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, cb: (lock: unknown) => Promise<unknown>): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] }>;
};

const NO_LOCK = Symbol('no-lock');

/** `navigator.locks` (Chromium, Firefox, Safari 15.4+), shared by every tab and worker of the origin. */
export class WebLocks implements Locks {
  constructor(readonly manager: LockManagerLike) {}

  async run<T>(name: string, options: { wait: boolean; signal?: AbortSignal }, fn: () => Promise<T>) {
    const out = await this.manager.request(
      name,
      options.wait ? (options.signal ? { signal: options.signal } : {}) : { ifAvailable: true },
      async (lock) => (lock === null ? NO_LOCK : { value: await fn() }),
    );
    return out === NO_LOCK ? { acquired: false as const } : { acquired: true as const, value: (out as { value: T }).value };
  }

  async held(): Promise<string[]> {
    const snapshot = await this.manager.query();
    return (snapshot.held ?? []).map((l) => l.name ?? '');
  }
}

/** Locks within one JavaScript realm (Node tests; platforms without Web Locks, where tabs cannot be coordinated). */
export class MemoryLocks implements Locks {
  readonly #holders = new Map<string, Promise<void>>();

  async run<T>(name: string, options: { wait: boolean; signal?: AbortSignal }, fn: () => Promise<T>) {
    while (this.#holders.has(name)) {
      if (!options.wait) return { acquired: false as const };
      options.signal?.throwIfAborted();
      await this.#holders.get(name);
    }
    let release = () => {};
    this.#holders.set(name, new Promise<void>((r) => (release = r)));
    try {
      return { acquired: true as const, value: await fn() };
    } finally {
      this.#holders.delete(name);
      release();
    }
  }

  async held(): Promise<string[]> {
    return [...this.#holders.keys()];
  }
}

export function defaultLocks(): Locks {
  const manager = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return manager && typeof manager.request === 'function' ? new WebLocks(manager) : new MemoryLocks();
}

/** The lock (and channel key) of one file's upload: its fingerprint. */
export const lockName = (fingerprint: string) => `chute:${fingerprint}`;

/** What a tab that uploads tells the others. */
export interface TabProgress {
  fingerprint: string;
  name: string;
  size: number;
  bytesUploaded: number;
  status: string;
  /** The upload ended (verified, failed or canceled): the record may be gone. */
  ended: boolean;
  at: number;
}

/** Progress between tabs (`BroadcastChannel` where present). */
export interface TabChannel {
  post(message: TabProgress): void;
  subscribe(listener: (message: TabProgress) => void): () => void;
  close(): void;
}

export class BroadcastTabChannel implements TabChannel {
  readonly #channel: BroadcastChannel;
  readonly #listeners = new Set<(m: TabProgress) => void>();

  constructor(name = 'chute-uploads') {
    this.#channel = new BroadcastChannel(name);
    // Node (tests, SSR) would otherwise stay alive for the channel.
    (this.#channel as unknown as { unref?: () => void }).unref?.();
    this.#channel.onmessage = (ev: MessageEvent) => {
      const m = ev.data as TabProgress;
      if (m && typeof m.fingerprint === 'string') for (const l of this.#listeners) l(m);
    };
  }

  post(message: TabProgress): void {
    try {
      this.#channel.postMessage(message);
    } catch {
      // closed: nothing to tell
    }
  }

  subscribe(listener: (message: TabProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#channel.close();
  }
}

/** A channel that tells no one (no BroadcastChannel). */
export const silentChannel: TabChannel = { post() {}, subscribe: () => () => {}, close() {} };

export function defaultTabChannel(): TabChannel {
  return typeof BroadcastChannel === 'function' ? new BroadcastTabChannel() : silentChannel;
}
