import { z } from 'zod';

/** S3 additional checksum algorithms (the names S3 and R2 use in `x-amz-checksum-algorithm`). */
export const CHECKSUM_ALGORITHMS = ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export const checksumAlgorithmSchema = z.enum(CHECKSUM_ALGORITHMS);

/** How a multipart object's checksum is formed: over the whole object, or a checksum of part checksums. */
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** The request/response header that carries each algorithm's value (base64 of the big-endian digest). */
export const CHECKSUM_HEADERS: Record<ChecksumAlgorithm, string> = {
  CRC64NVME: 'x-amz-checksum-crc64nvme',
  CRC32: 'x-amz-checksum-crc32',
  CRC32C: 'x-amz-checksum-crc32c',
  SHA1: 'x-amz-checksum-sha1',
  SHA256: 'x-amz-checksum-sha256',
};

/** Digest length in bytes, used to validate base64 values before anything is signed. */
export const CHECKSUM_BYTES: Record<ChecksumAlgorithm | 'MD5', number> = {
  CRC64NVME: 8,
  CRC32: 4,
  CRC32C: 4,
  SHA1: 20,
  SHA256: 32,
  MD5: 16,
};

/**
 * The multipart checksum type per algorithm on R2: CRC64NVME is FULL_OBJECT only, every other
 * algorithm is COMPOSITE only (AWS allows more; R2's matrix is the common ground).
 */
export const CHECKSUM_TYPE: Record<ChecksumAlgorithm, ChecksumType> = {
  CRC64NVME: 'FULL_OBJECT',
  CRC32: 'COMPOSITE',
  CRC32C: 'COMPOSITE',
  SHA1: 'COMPOSITE',
  SHA256: 'COMPOSITE',
};

/** The plain header for MD5 (signed on every part by default; the part ETag is its hex form). */
export const CONTENT_MD5_HEADER = 'content-md5';

/** Every checksum header a browser may send; a bucket's CORS `AllowedHeaders` must list them. */
export const ALL_CHECKSUM_HEADERS: readonly string[] = [CONTENT_MD5_HEADER, ...Object.values(CHECKSUM_HEADERS)];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Byte length of a canonical base64 string, or -1 if it is not base64. */
export function base64ByteLength(value: string): number {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return -1;
  const pad = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return (value.length / 4) * 3 - pad;
}

/** True when `value` is base64 of exactly the digest length of `algorithm`. */
export function isChecksumValue(algorithm: ChecksumAlgorithm | 'MD5', value: string): boolean {
  return base64ByteLength(value) === CHECKSUM_BYTES[algorithm];
}

/** A base64 string of 4..64 bytes; the exact length is checked against the algorithm in use. */
export const base64DigestSchema = z
  .string()
  .min(4)
  .max(88)
  .refine((v) => base64ByteLength(v) > 0, { message: 'must be base64' });

/** Content-MD5 value: base64 of the 16-byte MD5 digest. */
export const md5Schema = z.string().refine((v) => isChecksumValue('MD5', v), {
  message: 'must be base64 of a 16-byte MD5 digest',
});
