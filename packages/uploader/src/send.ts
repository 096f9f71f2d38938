// Sends one presigned PUT (a part or a whole small file) until it succeeds or cannot: backoff
// with jitter on network errors/5xx/429/stalls, a fresh URL when the old one expired or was
// refused, a re-read and re-hash when the bucket says the bytes do not match their digest.
import { isAbortLike, UploaderError } from './errors.js';
import { backoffDelay, classifyFailure } from './retry.js';
import { type PutResult, TransportError } from './transport.js';
import type { UploadDriver } from './upload.js';

export interface SignedTarget {
  url: string;
  headers: Record<string, string>;
  expiresAtMs: number;
  /** When to stop using the URL: its expiry minus a margin (at most half its lifetime). */
  staleAtMs: number;
}

/**
 * A signed target from the signer's answer, received at local time `now`. The URL's lifetime is
 * read from the URL itself (`X-Amz-Expires`), so a client clock that is off by minutes neither
 * keeps expired URLs nor throws fresh ones away; `expiresAt` (signer clock) is the fallback.
 */
export function signedTarget(
  url: string,
  headers: Record<string, string>,
  expiresAt: string,
  now: number,
  marginMs: number,
): SignedTarget {
  let lifetimeMs = Date.parse(expiresAt) - now;
  try {
    const expires = Number(new URL(url).searchParams.get('X-Amz-Expires'));
    if (Number.isFinite(expires) && expires > 0) lifetimeMs = expires * 1000;
  } catch {
    // Not an absolute URL: keep the signer's expiresAt.
  }
  const expiresAtMs = now + lifetimeMs;
  const margin = Math.min(marginMs, Math.max(0, lifetimeMs / 2));
  return { url, headers, expiresAtMs, staleAtMs: expiresAtMs - margin };
}

export interface SendTarget {
  partNumber?: number;
  /** The bytes to send: a lazy Blob slice of the file (never a copy). */
  body(): Blob;
  /** A signed request that is still fresh (the target re-signs as needed). */
  signed(): Promise<SignedTarget>;
  /** Forget the current URL: the next `signed()` asks the signer again. */
  invalidate(): void;
  /** Re-read and re-hash the bytes (they were rejected by the bucket), then forget the URL. */
  rehash(): Promise<void>;
  onProgress(loaded: number): void;
}

const MAX_RESIGNS = 4;
const MAX_REHASHES = 3;

export async function sendWithRecovery(d: UploadDriver, t: SendTarget): Promise<PutResult> {
  const { ctx } = d;
  const { options, clock } = ctx;
  let retries = 0;
  let resigns = 0;
  let rehashes = 0;
  let sends = 0;
  const label = t.partNumber === undefined ? 'file' : `part ${t.partNumber}`;
  for (;;) {
    await d.gate();
    let release: (() => void) | undefined;
    let sending = false;
    let req: SignedTarget | undefined;
    try {
      release = await ctx.slots.acquire(d.signal);
      d.admitted();
      // The URL is checked once the slot is ours: waiting for a slot can outlast a short URL.
      req = await d.signerCall(`sign ${label}`, () => t.signed());
      sends++;
      sending = true;
      ctx.inFlight.current++;
      ctx.inFlight.peak = Math.max(ctx.inFlight.peak, ctx.inFlight.current);
      if (t.partNumber !== undefined) d.emitEvent('part-start', t.partNumber);
      const hook = options.testHooks?.partBody;
      const body = hook ? hook({ partNumber: t.partNumber ?? 1, attempt: sends }, t.body()) : t.body();
      const res = await ctx.transport.put({
        url: req.url,
        headers: req.headers,
        body,
        stallTimeoutMs: options.stallTimeoutMs,
        signal: d.signal,
        onProgress: (loaded) => t.onProgress(loaded),
      });
      if (!res.etag) {
        throw new UploaderError(
          'missing_etag',
          'The bucket did not expose the ETag header: add "ETag" to the bucket CORS ExposeHeaders.',
        );
      }
      // A request already on the wire may finish after the platform went offline: the upload
      // as a whole is still waiting for the network then.
      if (ctx.connectivity.isOnline()) d.setStatus('uploading');
      return res;
    } catch (err) {
      t.onProgress(0);
      if (isAbortLike(err)) {
        await d.gate(); // paused: wait here, then send again; canceled: throws
        continue;
      }
      if (!(err instanceof TransportError)) throw err;
      if (!ctx.connectivity.isOnline()) {
        await d.waitOnline().catch(() => undefined);
        continue;
      }
      const expired = clock.now() >= (req?.expiresAtMs ?? 0);
      const action = classifyFailure(err.failure, expired);
      if (action === 'fail') {
        throw new UploaderError('part_rejected', `The bucket refused ${label}: ${err.message}.`, { cause: err });
      }
      if (action === 'rehash') {
        if (++rehashes > MAX_REHASHES) {
          throw new UploaderError('part_rejected', `The bucket kept rejecting ${label} as corrupted: ${err.message}.`);
        }
        d.emitEvent('retry', { ...partOf(t), attempt: rehashes, reason: `rehash: ${err.message}`, delayMs: 0 });
        await t.rehash();
        continue;
      }
      if (action === 'resign') {
        if (++resigns > MAX_RESIGNS) {
          throw new UploaderError('part_rejected', `The bucket refused ${label} even with fresh URLs: ${err.message}.`);
        }
        t.invalidate();
        d.emitEvent('retry', { ...partOf(t), attempt: resigns, reason: `resign: ${err.message}`, delayMs: 0 });
        continue;
      }
      if (++retries > options.retry.maxRetries) {
        // Browsers hide why a request failed; the usual causes are worth naming.
        const hint =
          err.failure.kind === 'network'
            ? ` The bucket could not be reached, or its CORS rules do not allow this page's origin${
                typeof location === 'undefined' ? '' : ` (${location.origin})`
              } with the PUT method and the content-md5 header.`
            : '';
        throw new UploaderError('retries_exhausted', `Sending ${label} failed ${retries} times: ${err.message}.${hint}`, {
          cause: err,
        });
      }
      // A CORS-less error response (e.g. an expiry 403 from a proxy) looks like a network error:
      // after two of them, a fresh URL costs one signer call and rules that out.
      const opaque = retries >= 2 && err.failure.kind !== 'http';
      if (opaque) t.invalidate();
      const delayMs = backoffDelay(options.retry, retries);
      d.setStatus('retrying');
      const reason = opaque ? `${err.message} (again): resign in case the URL expired` : err.message;
      d.emitEvent('retry', { ...partOf(t), attempt: retries, reason, delayMs });
      await clock.sleep(delayMs, d.signal).catch(() => undefined);
    } finally {
      release?.();
      if (sending) ctx.inFlight.current--;
    }
  }
}

const partOf = (t: SendTarget) => (t.partNumber === undefined ? {} : { partNumber: t.partNumber });
