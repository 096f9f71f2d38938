// The digests a probe object needs, as S3 headers carry them (base64 of the big-endian bytes).
import { createHash } from 'node:crypto';
import type { ChecksumAlgorithm } from '@chute/protocol';
import { crc32, crc64 } from 'hash-wasm';

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const CRC32C_POLYNOMIAL = 0x82f63b78;
const CRC64NVME_POLYNOMIAL = '9a6c9329ac4bc9b5';

export const md5Base64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
export const md5Hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

export async function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  switch (algorithm) {
    case 'CRC32':
      return hexToBase64(await crc32(data));
    case 'CRC32C':
      return hexToBase64(await crc32(data, CRC32C_POLYNOMIAL));
    case 'CRC64NVME':
      return hexToBase64(await crc64(data, CRC64NVME_POLYNOMIAL));
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
  }
}

/** A valid value of the right length that is not the checksum of `data` (for "is it enforced?"). */
export async function wrongChecksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  const right = Buffer.from(await checksumOf(algorithm, data), 'base64');
  right[0] = (right[0] ?? 0) ^ 0xff;
  return right.toString('base64');
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, then `-<part count>`. */
export function multipartEtag(parts: Uint8Array[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `${h.digest('hex')}-${parts.length}`;
}
