// The per-upload URL budget: over its token's lifetime an upload may have about URLS_PER_PART
// signed URLs per part (at least MIN_URLS in all). Retries and re-signing after URLs expire fit
// easily; a client that loops on signing the same parts does not.
import { MAX_PARTS } from '@chute/protocol';
import { ChuteError } from '../errors.js';
import { guarded } from './errors.js';
import type { Budget, LimitStore } from './store.js';

export const URLS_PER_PART = 10;
export const MIN_URLS = 50;
// One budget for every upload (so one limiter), each URL priced by the upload's part count.
const POINTS = URLS_PER_PART * MAX_PARTS;

export async function chargeUploadUrls(store: LimitStore, uploadId: string, partCount: number, urls: number, ttlSeconds: number): Promise<void> {
  const allowed = Math.max(URLS_PER_PART * partCount, MIN_URLS);
  const budget: Budget = { name: 'urls-upload', points: POINTS, durationSeconds: Math.max(1, Math.ceil(ttlSeconds)) };
  const r = await guarded(store.consume(budget, uploadId, urls * Math.ceil(POINTS / allowed)));
  if (r.ok) return;
  throw new ChuteError(
    'quota_exceeded',
    `This upload has had about ${allowed} URLs signed already (${URLS_PER_PART} per part); start the upload again.`,
    { details: { urlsPerUpload: allowed } },
  );
}
