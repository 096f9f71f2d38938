// Whole-object integrity: the checksum the bucket must report for the file, computed from the
// per-part digests alone (no second pass over the bytes), and the comparison at complete.
import type { CompleteUploadResponse, Verification } from '@chute/protocol';
import { crc64CombineAll } from './crc64.js';
import { bytesToBase64, crc64ToBase64, hexToBytes, normalizeEtag } from './encoding.js';
import { UploaderError } from './errors.js';
import type { PartDigest } from './hash-messages.js';

export interface LocalChecksum {
  algorithm: 'CRC64NVME' | 'SHA256' | 'MD5';
  value: string;
}

export async function localChecksum(
  algorithm: string,
  parts: ReadonlyArray<{ size: number }>,
  digests: PartDigest[],
): Promise<LocalChecksum> {
  if (algorithm === 'CRC64NVME') {
    const crc = crc64CombineAll(parts.map((p, i) => ({ crc: BigInt(`0x${digests[i]?.crc64nvme}`), size: p.size })));
    return { algorithm: 'CRC64NVME', value: crc64ToBase64(crc) };
  }
  const field = algorithm === 'SHA256' ? 'sha256' : 'md5';
  // COMPOSITE: H(d1‖…‖dn)-n over binary part digests; with no extra checksum, the multipart ETag.
  const joined = new Uint8Array(digests.length * (field === 'sha256' ? 32 : 16));
  digests.forEach((dg, i) => {
    joined.set(hexToBytes(dg[field] as string), i * (field === 'sha256' ? 32 : 16));
  });
  if (field === 'sha256') {
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
    return { algorithm: 'SHA256', value: `${bytesToBase64(h)}-${digests.length}` };
  }
  const { md5 } = await import('hash-wasm');
  return { algorithm: 'MD5', value: `${await md5(joined)}-${digests.length}` };
}

/** `md5(binary part MD5s)-N`: the multipart ETag S3-compatible stores compute. */
export async function localMultipartEtag(digests: PartDigest[]): Promise<string> {
  return (
    await localChecksum(
      'MD5',
      digests.map(() => ({ size: 0 })),
      digests,
    )
  ).value;
}

const MULTIPART_ETAG = /^[0-9a-f]{32}-\d+$/;

export interface Verified {
  verification: Verification;
  /** The value the store returned that equals the file's, if any. */
  verifiedBy?: LocalChecksum;
}

/**
 * The signer's verification of a completed multipart upload, re-checked against what the store
 * returned: its checksum (when it returned one) and its multipart ETag (when it has the standard
 * shape). Only a value that is present and differs is a mismatch; an absent one lowers the level.
 * An older signer sends no `verification`: the level then comes from these local checks alone.
 */
export function verifyMultipart(
  completed: CompleteUploadResponse,
  local: { checksum?: LocalChecksum; etag: string; partCount: number },
): Verified {
  const etag = normalizeEtag(completed.etag);
  const checked: string[] = [];
  let verifiedBy: LocalChecksum | undefined;
  const c = local.checksum;
  if (c && c.algorithm !== 'MD5' && completed.checksum) {
    if (completed.checksum.algorithm !== c.algorithm || completed.checksum.value !== c.value) {
      throw new UploaderError(
        'verification_failed',
        `The stored object's ${completed.checksum.algorithm} (${completed.checksum.value}) differs from the file's ${c.algorithm} (${c.value}).`,
      );
    }
    verifiedBy = c;
    checked.push(`${c.algorithm} ${c.value} returned by the store equals the file's`);
  }
  let etagOk = false;
  if (MULTIPART_ETAG.test(etag)) {
    if (etag !== local.etag) {
      throw new UploaderError(
        'verification_failed',
        `The stored object's multipart ETag ${etag} differs from the MD5 of the file's part MD5s (${local.etag}).`,
      );
    }
    etagOk = true;
    verifiedBy ??= { algorithm: 'MD5', value: etag };
    checked.push(`multipart ETag ${etag} equals the MD5 of the ${local.partCount} part MD5s`);
  }
  if (completed.verification)
    return { verification: completed.verification, ...(verifiedBy ? { verifiedBy } : {}) };
  // Older signer: the engine signs every part with Content-MD5 (or its SHA-256), so a matching
  // ETag or store checksum means parts the store checked.
  const full =
    verifiedBy !== undefined && verifiedBy.algorithm !== 'MD5' && completed.checksum?.type === 'FULL_OBJECT';
  const verification: Verification = full
    ? { level: 'full-object-checksum', checked }
    : verifiedBy
      ? { level: 'part-checksums-and-etag', checked }
      : {
          level: 'not-verifiable',
          checked,
          warning:
            'Stored, but not verifiable on this store: it returned no checksum and no standard multipart ETag.',
        };
  return { verification, ...(verifiedBy ? { verifiedBy } : {}) };
}
