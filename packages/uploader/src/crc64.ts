// CRC-64/NVME maths on 64-bit values (BigInt), so the full-object checksum can be derived from
// per-part CRCs hashed in parallel by different workers: crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B).
// Port of zlib's crc32_combine (multmodp/x2nmodp) to 64 bits, reflected polynomial.

/** Reflected CRC-64/NVME polynomial; the hash-wasm argument is its 16-hex-digit spelling. */
export const CRC64NVME_POLY = 0x9a6c9329ac4bc9b5n;
export const CRC64NVME_HASH_WASM_POLY = '9a6c9329ac4bc9b5';

const TOP = 1n << 63n; // x^0 in the reflected representation

/** a·b mod P for reflected polynomials. */
function multModP(a: bigint, b: bigint): bigint {
  let m = TOP;
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ CRC64NVME_POLY : b >> 1n;
  }
  return p;
}

// X2N[k] = x^(2^k) mod P.
const X2N: bigint[] = [];
{
  let p = TOP >> 1n; // x^1
  for (let k = 0; k < 64; k++) {
    X2N.push(p);
    p = multModP(p, p);
  }
}

/** x^(n·2^k) mod P. */
function x2nModP(n: bigint, k: number): bigint {
  let p = TOP;
  while (n > 0n) {
    if (n & 1n) p = multModP(X2N[k & 63] as bigint, p);
    n >>= 1n;
    k++;
  }
  return p;
}

/** CRC of A‖B from crc(A), crc(B) and the byte length of B. */
export function crc64Combine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  if (lengthB === 0) return crcA;
  return multModP(x2nModP(BigInt(lengthB), 3), crcA) ^ crcB;
}

/** Folds per-part CRCs (in part order) into the CRC of the whole object. */
export function crc64CombineAll(parts: ReadonlyArray<{ crc: bigint; size: number }>): bigint {
  let crc = 0n; // CRC of the empty string
  for (const part of parts) crc = crc64Combine(crc, part.crc, part.size);
  return crc;
}
