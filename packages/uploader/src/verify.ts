// Whole-object integrity: the checksum the bucket must report for the file, computed from the
// per-part digests alone (no second pass over the bytes), and the comparison at complete.
import type { CompleteUploadResponse } from '@chute/protocol';
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

export function verify(completed: CompleteUploadResponse, local: LocalChecksum): LocalChecksum {
  const ok =
    local.algorithm === 'MD5'
      ? normalizeEtag(completed.etag) === local.value
      : completed.checksum?.algorithm === local.algorithm && completed.checksum.value === local.value;
  if (!ok) {
    throw new UploaderError(
      'verification_failed',
      `The stored object's ${local.algorithm} (${completed.checksum?.value ?? completed.etag}) differs from the file's (${local.value}).`,
    );
  }
  return local;
}
