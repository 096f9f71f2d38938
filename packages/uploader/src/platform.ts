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

/** Opens a connection to `origin` ahead of its first request (a hint: a platform may ignore it). */
export type Preconnect = (origin: string) => void;

const hinted = new Map<string, number>();

/**
 * `<link rel="preconnect" crossorigin>`: the part PUTs are CORS requests without credentials, so
 * the connection is opened in the anonymous pool they use, while the first parts are signed.
 */
export const browserPreconnect: Preconnect = (origin) => {
  if (typeof document === 'undefined' || !document.head) return;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) return;
  const now = Date.now();
  // Chromium drops an unused preconnected socket after ~10 s: hint again after that, not before.
  if ((hinted.get(origin) ?? Number.NEGATIVE_INFINITY) > now - 10_000) return;
  hinted.set(origin, now);
  const link = document.createElement('link');
  link.rel = 'preconnect';
  link.href = origin;
  link.crossOrigin = 'anonymous';
  document.head.append(link);
  setTimeout(() => link.remove(), 30_000);
};
