// CHECKSUM_ALGORITHM=auto: the checksum part of doctor, run once per process at start-up, small.
import type { S3Client } from '@aws-sdk/client-s3';
import type { ChecksumAlgorithm } from '@chute/protocol';
import { probeAccess, probeContentMd5 } from './basics.js';
import { PROBED_ALGORITHMS, probeMultipart, probeSinglePut } from './checksums.js';
import { cleanUp, type ProbeContext } from './context.js';
import { recommendChecksum, type StoreCapabilities, verifiedChecksums } from './index.js';

export interface ChecksumChoice {
  /** What the signer asks the store for. */
  algorithm: ChecksumAlgorithm | 'NONE';
  why: string;
  /** Algorithms the store verifies and returns (a client may ask for these), plus NONE. */
  supported: (ChecksumAlgorithm | 'NONE')[];
  contentMd5Enforced: boolean;
  probedAt: string;
  ms: number;
  /** Probe objects that could not be removed (under `.chute-doctor/`). */
  leftovers: string[];
}

const cache = new Map<string, Promise<ChecksumChoice>>();

/**
 * Probes `bucket` (each algorithm on a PutObject and a one-part multipart upload, a wrong value
 * of each, Content-MD5), cleans up, and picks the strongest algorithm the store both enforces and
 * returns. Cached per endpoint and bucket for the life of the process; a failed probe is not.
 */
export function chooseChecksum(client: S3Client, bucket: string, endpoint: string): Promise<ChecksumChoice> {
  const id = `${endpoint} ${bucket}`;
  let choice = cache.get(id);
  if (!choice) {
    choice = probe(client, bucket, endpoint);
    cache.set(id, choice);
    choice.catch(() => cache.delete(id));
  }
  return choice;
}

async function probe(client: S3Client, bucket: string, endpoint: string): Promise<ChecksumChoice> {
  const t0 = performance.now();
  const ctx: ProbeContext = {
    client,
    bucket,
    endpoint,
    prefix: `.chute-doctor/${crypto.randomUUID()}/`,
    objects: new Set(),
    uploads: [],
    checks: [],
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    light: true,
  };
  let leftovers: string[] = [];
  const caps: Pick<StoreCapabilities, 'single' | 'multipart' | 'contentMd5Enforced'> = { single: {}, multipart: {}, contentMd5Enforced: false };
  try {
    if (!(await probeAccess(ctx))) {
      const failed = ctx.checks.find((c) => c.verdict === 'fail');
      throw new Error(`${failed?.label ?? 'store'}: ${failed?.detail ?? 'no answer'}`);
    }
    caps.contentMd5Enforced = await probeContentMd5(ctx);
    // The algorithms are independent: probing them side by side keeps start-up to a few round trips.
    await Promise.all(
      PROBED_ALGORITHMS.map(async (alg) => {
        caps.single[alg] = await probeSinglePut(ctx, alg);
        caps.multipart[alg] = await probeMultipart(ctx, alg, { checked: true });
      }),
    );
  } finally {
    leftovers = await cleanUp(ctx);
  }
  const pick = recommendChecksum(caps);
  return {
    algorithm: pick.value,
    why: pick.why,
    supported: [...verifiedChecksums(caps), 'NONE'],
    contentMd5Enforced: caps.contentMd5Enforced,
    probedAt: new Date().toISOString(),
    ms: Math.round(performance.now() - t0),
    leftovers,
  };
}
