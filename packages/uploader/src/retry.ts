// Retry policy: exponential backoff with full jitter, and the classification of a failed request
// into what the engine should do next. Pure, so it is unit-tested without a network.

export interface RetryPolicy {
  /** Attempts after the first failure before the upload fails (offline waits do not count). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before retry number `attempt` (1-based): uniform in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** What went wrong with one part PUT (or single PUT), as seen by the transport. */
export type PartFailure =
  | { kind: 'network' } // status 0: connection refused/reset, CORS-opaque error, offline
  | { kind: 'stalled' } // no upload progress for stallTimeoutMs: aborted by us
  | { kind: 'http'; status: number; code?: string | undefined; message?: string | undefined };

export type RecoveryAction =
  | 'retry' // back off, then send again with the same URL
  | 'resign' // the URL expired or was rejected: get a fresh one, then send
  | 'rehash' // the store says the bytes do not match the signed digest: re-read, re-hash, re-sign
  | 'fail';

/** S3/R2 error codes that mean "the body did not match the digest you promised". */
const DIGEST_CODES = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentChecksumMismatch', 'InvalidChecksum']);

export function classifyFailure(failure: PartFailure, urlExpired: boolean): RecoveryAction {
  switch (failure.kind) {
    case 'network':
      // A browser hides the status of a CORS-less 403; past expiry that is the likely cause.
      return urlExpired ? 'resign' : 'retry';
    case 'stalled':
      return urlExpired ? 'resign' : 'retry';
    case 'http': {
      const { status, code } = failure;
      if (code && DIGEST_CODES.has(code)) return 'rehash';
      if (status === 403 || status === 401) return 'resign';
      if (status === 408 || status === 429 || status >= 500) return 'retry';
      if (status === 400 && code === 'RequestTimeout') return 'retry';
      return 'fail';
    }
  }
}

/** Pulls `<Code>` and `<Message>` from an S3 XML error body (tiny, so no XML parser needed). */
export function parseS3Error(body: string): { code?: string; message?: string } {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}
