// The per-upload URL budget: over its token's lifetime an upload may have `urlsPerPart` signed
// URLs per part (at least MIN_URLS in all). Retries and re-signing after URLs expire fit easily;
// a client that loops on signing the same parts does not.
import { MAX_PARTS } from '@chute/protocol';
import { ChuteError } from '../errors.js';
import { guarded } from './errors.js';
import type { Budget, LimitStore } from './store.js';

export const MIN_URLS = 50;

export async function chargeUploadUrls(store: LimitStore, uploadId: string, partCount: number, urls: number, limits: { urlsPerPart: number; tokenTtlSeconds: number }): Promise<void> {
  const perPart = limits.urlsPerPart;
  if (perPart <= 0) return;
  // One budget for every upload (so one limiter), each URL priced by the upload's part count.
  const points = perPart * MAX_PARTS;
  const allowed = Math.max(perPart * partCount, MIN_URLS);
  const budget: Budget = { name: `urls-upload-${perPart}`, points, durationSeconds: Math.max(1, Math.ceil(limits.tokenTtlSeconds)) };
  const r = await guarded(store.consume(budget, uploadId, urls * Math.ceil(points / allowed)));
  if (r.ok) return;
  throw new ChuteError(
    'quota_exceeded',
    `This upload has had about ${allowed} URLs signed already (${perPart} per part); start the upload again.`,
    { details: { urlsPerUpload: allowed } },
  );
}
