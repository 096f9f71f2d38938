// Platform specifics behind small interfaces (tus-js-client style), with browser defaults.

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with `signal.reason` when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface Connectivity {
  isOnline(): boolean;
  /** Resolves when the platform reports being back online. */
  waitOnline(signal?: AbortSignal): Promise<void>;
}

export const browserConnectivity: Connectivity = {
  isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
  waitOnline: (signal) =>
    new Promise((resolve, reject) => {
      if (typeof window === 'undefined' || navigator.onLine !== false) {
        resolve();
        return;
      }
      const onAbort = () => {
        window.removeEventListener('online', onOnline);
        reject(signal?.reason);
      };
      const onOnline = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      window.addEventListener('online', onOnline, { once: true });
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
