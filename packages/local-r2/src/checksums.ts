import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createCRC32, createCRC64, type IHasher } from 'hash-wasm';
import { S3Error } from './errors.js';

/** The x-amz-checksum-* algorithms R2 accepts; CRC64NVME is FULL_OBJECT only, the rest COMPOSITE only. */
export const ALGORITHMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const;
export type ChecksumAlgorithm = (typeof ALGORITHMS)[number];
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32, CRC64NVME: 8 };
export const CRC64NVME_POLY = '9a6c9329ac4bc9b5';
const CRC32C_POLY = 0x82f63b78;

export const headerName = (alg: ChecksumAlgorithm) => `x-amz-checksum-${alg.toLowerCase()}`;
export const defaultType = (alg: ChecksumAlgorithm): ChecksumType => (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');

export function parseAlgorithm(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined || value === '') return undefined;
  const up = value.toUpperCase();
  if ((ALGORITHMS as readonly string[]).includes(up)) return up as ChecksumAlgorithm;
  throw new S3Error('InvalidRequest', `Checksum algorithm '${value}' is not supported.`);
}

/** Decodes a base64 checksum value and checks its length; malformed → InvalidDigest. */
export function decodeChecksum(alg: ChecksumAlgorithm, value: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new S3Error('InvalidDigest', `Value for ${headerName(alg)} header is invalid.`);
  const buf = Buffer.from(value, 'base64');
  if (buf.length !== DIGEST_BYTES[alg] || buf.toString('base64') !== value)
    throw new S3Error('InvalidDigest', `Value for ${headerName(alg)} header is invalid.`);
  return buf;
}

export function decodeContentMd5(value: string): Buffer {
  const buf = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || buf.length !== 16)
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  return buf;
}

export interface Hasher {
  update(chunk: Uint8Array): void;
  digest(): Buffer;
}

class NodeHasher implements Hasher {
  private readonly h;
  constructor(alg: string) {
    this.h = createHash(alg);
  }
  update(chunk: Uint8Array) {
    this.h.update(chunk);
  }
  digest() {
    return this.h.digest();
  }
}

class Crc32Hasher implements Hasher {
  private crc = 0;
  update(chunk: Uint8Array) {
    this.crc = zlibCrc32(chunk, this.crc);
  }
  digest() {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.crc >>> 0);
    return b;
  }
}

class WasmHasher implements Hasher {
  constructor(private readonly h: IHasher) {}
  update(chunk: Uint8Array) {
    this.h.update(chunk);
  }
  digest() {
    return Buffer.from(this.h.digest('binary'));
  }
}

export async function createHasher(alg: ChecksumAlgorithm | 'MD5'): Promise<Hasher> {
  switch (alg) {
    case 'MD5':
      return new NodeHasher('md5');
    case 'SHA1':
      return new NodeHasher('sha1');
    case 'SHA256':
      return new NodeHasher('sha256');
    case 'CRC32':
      return new Crc32Hasher();
    case 'CRC32C':
      return new WasmHasher((await createCRC32(CRC32C_POLY)).init());
    case 'CRC64NVME':
      return new WasmHasher((await createCRC64(CRC64NVME_POLY)).init());
  }
}

export async function digestOf(alg: ChecksumAlgorithm | 'MD5', data: Uint8Array): Promise<Buffer> {
  const h = await createHasher(alg);
  h.update(data);
  return h.digest();
}

/** COMPOSITE multipart checksum: base64(H(d1‖d2‖…‖dn))-n over the binary part digests. */
export async function compositeChecksum(alg: ChecksumAlgorithm, partDigests: Buffer[]): Promise<string> {
  const d = await digestOf(alg, Buffer.concat(partDigests));
  return `${d.toString('base64')}-${partDigests.length}`;
}

// CRC combine (zlib's multmodp/x2nmodp, generalised to 32/64-bit reflected CRCs with BigInt):
// crc(A‖B) = crc(A)·x^(8·len(B)) mod P ⊕ crc(B). Lets a FULL_OBJECT CRC be built from part CRCs.
function multModP(a: bigint, b: bigint, width: number, poly: bigint): bigint {
  let m = 1n << BigInt(width - 1);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return p;
}

const x2nTables = new Map<string, bigint[]>();
function x2nTable(width: number, poly: bigint): bigint[] {
  const id = `${width}:${poly}`;
  let t = x2nTables.get(id);
  if (!t) {
    t = [1n << BigInt(width - 2)];
    for (let i = 1; i < 64; i++) t.push(multModP(t[i - 1] as bigint, t[i - 1] as bigint, width, poly));
    x2nTables.set(id, t);
  }
  return t;
}

function x2nModP(n: bigint, k: number, width: number, poly: bigint): bigint {
  const table = x2nTable(width, poly);
  let p = 1n << BigInt(width - 1);
  while (n) {
    if (n & 1n) p = multModP(table[k & 63] as bigint, p, width, poly);
    n >>= 1n;
    k++;
  }
  return p;
}

export function crcCombine(crc1: bigint, crc2: bigint, len2: number, width: 32 | 64, poly: bigint): bigint {
  return multModP(x2nModP(BigInt(len2), 3, width, poly), crc1, width, poly) ^ crc2;
}

/** FULL_OBJECT CRC64NVME of a multipart object from each part's CRC64NVME digest and size. */
export function combineCrc64Nvme(parts: { digest: Buffer; size: number }[]): Buffer {
  const poly = BigInt(`0x${CRC64NVME_POLY}`);
  let crc = 0n;
  for (const p of parts) crc = crcCombine(crc, p.digest.readBigUInt64BE(0), p.size, 64, poly);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(crc);
  return out;
}
