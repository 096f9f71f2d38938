// `chute-server doctor`: probes the configured bucket with a few small objects (cleaned up after)
// and says what this store does, what Chute will rely on, and which settings to use.
import type { S3Client } from '@aws-sdk/client-s3';
import { CHECKSUM_TYPE, type ChecksumAlgorithm } from '@chute/protocol';
import { probeAccess, probeContentMd5, probeLifecycle, probePresignExpiry, probeRoundTrip } from './basics.js';
import { type EtagProbe, type MultipartSupport, PROBED_ALGORITHMS, type ProbedAlgorithm, probeMinPartSize, probeMultipart, probeSinglePut, type SingleSupport } from './checksums.js';
import { type Check, check, cleanUp, type ProbeContext } from './context.js';
import { type CorsSupport, probeCors } from './cors.js';

export type { Check } from './context.js';

/** What the store does, as measured; the signer chooses its checksum from it. */
export interface StoreCapabilities {
  endpoint: string;
  bucket: string;
  probedAt: string;
  contentMd5Enforced: boolean;
  single: Partial<Record<ProbedAlgorithm, SingleSupport>>;
  multipart: Partial<Record<ProbedAlgorithm, MultipartSupport>>;
  /** CompleteMultipartUpload's ETag is MD5(part MD5s)-N. */
  multipartEtag?: boolean;
  minPartSizeEnforced?: boolean;
  presignExpiryHonoured?: boolean;
  cors: Record<string, CorsSupport>;
  abortAfterDays?: number;
}

export interface DoctorReport {
  checks: Check[];
  capabilities: StoreCapabilities;
  /** Settings to use with this store (env name → value), with why. */
  recommended: { name: string; value: string; why: string }[];
  /** False when browser uploads cannot work with this configuration. */
  usable: boolean;
}

export interface DoctorOptions {
  client: S3Client;
  bucket: string;
  endpoint: string;
  origins: string[];
  /** Default: real time (the expiry probe waits 2.5 s). */
  sleep?: (ms: number) => Promise<void>;
}

/** The algorithms this store verifies and returns, by what it measured (each needs every probe of its kind to pass). */
export function verifiedChecksums(c: Pick<StoreCapabilities, 'multipart' | 'single'>): ProbedAlgorithm[] {
  return PROBED_ALGORITHMS.filter((alg) => {
    const m = c.multipart[alg];
    if (!m?.accepted || !m.completeReturned || !m.head || !c.single[alg]?.enforced) return false;
    return CHECKSUM_TYPE[alg] === 'FULL_OBJECT' ? m.wrongRefused === true : m.listed && m.wrongPartRefused === true;
  });
}

/** Strongest first: a full-object CRC64NVME, then a composite CRC32C or CRC32, else Content-MD5 alone. */
const PREFERENCE = ['CRC64NVME', 'CRC32C', 'CRC32'] as const;

/** The checksum Chute should ask this store for, by what it measured. */
export function recommendChecksum(c: Pick<StoreCapabilities, 'multipart' | 'single' | 'contentMd5Enforced'>): { value: ChecksumAlgorithm | 'NONE'; why: string } {
  const verified = verifiedChecksums(c);
  const best = PREFERENCE.find((alg) => verified.includes(alg));
  if (best === 'CRC64NVME') {
    return { value: best, why: 'the store verifies and returns a full-object CRC64NVME: every upload is verified end to end by the store' };
  }
  if (best) {
    return { value: best, why: `the store does not verify a full-object CRC64NVME but verifies and returns ${best} per part (composite): parts are checked by the store, the object by its composite ${best}` };
  }
  return {
    value: 'NONE',
    why: c.contentMd5Enforced
      ? 'the store verifies no x-amz-checksum-* it is sent: Chute verifies by per-part Content-MD5 (enforced by the store), the multipart ETag and the size instead'
      : 'the store verifies neither x-amz-checksum-* nor Content-MD5: uploads are checked by the multipart ETag and the size only',
  };
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const ctx: ProbeContext = {
    client: o.client,
    bucket: o.bucket,
    endpoint: o.endpoint,
    prefix: `.chute-doctor/${crypto.randomUUID()}/`,
    objects: new Set(),
    uploads: [],
    checks: [],
    sleep: o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
  const caps: StoreCapabilities = { endpoint: o.endpoint, bucket: o.bucket, probedAt: new Date().toISOString(), contentMd5Enforced: false, single: {}, multipart: {}, cors: {} };
  let usable = false;
  try {
    if ((await probeAccess(ctx)) && (await probeRoundTrip(ctx))) {
      usable = true;
      caps.contentMd5Enforced = await probeContentMd5(ctx);
      for (const alg of PROBED_ALGORITHMS) caps.single[alg] = await probeSinglePut(ctx, alg);
      const etag: EtagProbe = { checked: false };
      for (const alg of PROBED_ALGORITHMS) caps.multipart[alg] = await probeMultipart(ctx, alg, etag);
      if (etag.checked) {
        caps.multipartEtag = etag.matches === true;
        const said = caps.multipartEtag ? 'matches (HeadObject): verifiable without store checksums' : 'differs (HeadObject): multipart uploads are verified by size only';
        check(ctx, 'etag', 'multipart ETag = MD5 of part MD5s', caps.multipartEtag ? 'ok' : 'warn', etag.note ? `${said}; ${etag.note}` : said);
      }
      const min = await probeMinPartSize(ctx);
      if (min !== undefined) caps.minPartSizeEnforced = min;
      const expiry = await probePresignExpiry(ctx);
      if (expiry !== undefined) caps.presignExpiryHonoured = expiry;
      if (o.origins.length === 0) check(ctx, 'cors', 'CORS', 'warn', 'no origin given (--origin or CORS_ORIGINS): browser uploads not checked');
      for (const origin of o.origins) {
        caps.cors[origin] = await probeCors(ctx, origin);
        if (!caps.cors[origin].etagExposed) usable = false;
      }
      const days = await probeLifecycle(ctx);
      if (days !== undefined) caps.abortAfterDays = days;
    }
  } finally {
    const problems = await cleanUp(ctx);
    if (problems.length) check(ctx, 'cleanup', 'probe objects removed', 'warn', problems.slice(0, 3).join('; '));
    else if (ctx.objects.size || ctx.uploads.length) check(ctx, 'cleanup', 'probe objects removed', 'ok', `${ctx.objects.size} object(s), ${ctx.uploads.length} upload(s)`);
  }
  const recommended: DoctorReport['recommended'] = [];
  if (usable) {
    const c = recommendChecksum(caps);
    recommended.push({ name: 'CHECKSUM_ALGORITHM', value: c.value, why: c.why });
    if (!caps.contentMd5Enforced) recommended.push({ name: 'REQUIRE_MD5', value: 'true', why: 'keep it on anyway: the multipart ETag still checks the part MD5s at complete' });
  }
  return { checks: ctx.checks, capabilities: caps, recommended, usable };
}

/** The report as a terminal table. */
export function formatReport(r: DoctorReport): string {
  const mark = { ok: '✔', warn: '!', fail: '✘' } as const;
  const width = Math.max(...r.checks.map((c) => c.label.length), 10);
  const lines = [`chute-server doctor — ${r.capabilities.endpoint} bucket ${r.capabilities.bucket}`, ''];
  for (const c of r.checks) lines.push(`${mark[c.verdict]} ${c.label.padEnd(width)}  ${c.detail}`);
  lines.push('');
  if (r.recommended.length) {
    lines.push('Recommended settings:');
    for (const s of r.recommended) lines.push(`  ${s.name}=${s.value}    # ${s.why}`);
    lines.push('');
  }
  lines.push(r.usable ? 'Uploads can work with this bucket.' : 'Uploads CANNOT work with this bucket as configured: fix the ✘ lines above.');
  return `${lines.join('\n')}\n`;
}
