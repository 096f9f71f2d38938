/** Part-size maths within R2's (and S3's) multipart limits. Pure, for server and browser. */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Smallest allowed part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** Largest allowed part. */
export const MAX_PART_SIZE = 5 * GiB;
/** Most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Largest object R2 stores (5 TiB minus 5 GiB). */
export const MAX_OBJECT_SIZE = 5 * TiB - 5 * GiB;
/** Largest single PUT R2 accepts (5 GiB minus 5 MiB). */
export const MAX_SINGLE_PUT_SIZE = 5 * GiB - 5 * MiB;
/** Part size used when the caller has no preference: large enough to amortise each part's preflight. */
export const DEFAULT_PART_SIZE = 16 * MiB;

export interface PartSizeOptions {
  /** Wanted part size in bytes; raised to the minimum or to what 10,000 parts need. */
  preferred?: number;
  /** Lower cap on the number of parts than 10,000 (a policy limit). */
  maxParts?: number;
}

function assertSize(fileSize: number): void {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new RangeError(`file size must be a non-negative integer, got ${fileSize}`);
  if (fileSize > MAX_OBJECT_SIZE) throw new RangeError(`file size ${fileSize} is above the maximum object size ${MAX_OBJECT_SIZE}`);
}

/**
 * The part size for a file: ≥ 5 MiB, ≤ 5 GiB, a whole number of MiB, and small enough
 * parts that the file needs at most `maxParts` (10,000). All parts but the last are equal.
 * A pure function of its inputs: resume must re-chunk exactly as the first attempt did.
 */
export function choosePartSize(fileSize: number, options: PartSizeOptions = {}): number {
  assertSize(fileSize);
  const maxParts = Math.min(options.maxParts ?? MAX_PARTS, MAX_PARTS);
  if (!Number.isSafeInteger(maxParts) || maxParts < 1) throw new RangeError(`maxParts must be ≥ 1, got ${maxParts}`);
  const preferred = options.preferred ?? DEFAULT_PART_SIZE;
  if (!Number.isFinite(preferred) || preferred <= 0) throw new RangeError(`preferred part size must be positive, got ${preferred}`);
  const needed = Math.ceil(fileSize / maxParts);
  let size = Math.max(MIN_PART_SIZE, Math.ceil(preferred), needed);
  size = Math.ceil(size / MiB) * MiB;
  if (size > MAX_PART_SIZE) throw new RangeError(`a ${fileSize}-byte file does not fit in ${maxParts} parts of at most 5 GiB`);
  return size;
}

/** Number of parts of a file cut in `partSize` pieces (an empty file is one empty part). */
export function partCount(fileSize: number, partSize: number): number {
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new RangeError(`part size must be a positive integer, got ${partSize}`);
  return Math.max(1, Math.ceil(fileSize / partSize));
}

export interface PartRange {
  partNumber: number;
  /** First byte offset (inclusive). */
  start: number;
  /** Byte offset after the last byte (exclusive), as `Blob.slice` takes it. */
  end: number;
  /** `end - start`. */
  size: number;
}

/** Byte range of part `partNumber` (1-based) of a file of `fileSize` bytes cut in `partSize` pieces. */
export function partRange(partNumber: number, partSize: number, fileSize: number): PartRange {
  const count = partCount(fileSize, partSize);
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > count) {
    throw new RangeError(`part number must be between 1 and ${count}, got ${partNumber}`);
  }
  const start = (partNumber - 1) * partSize;
  const end = Math.min(start + partSize, fileSize);
  return { partNumber, start, end, size: end - start };
}

/** Size in bytes of part `partNumber`. */
export function partSizeOf(partNumber: number, partSize: number, fileSize: number): number {
  return partRange(partNumber, partSize, fileSize).size;
}

/**
 * Uppy 6's chunk maths (`S3Uploader.ts`): the part size stock `@uppy/aws-s3` uses for a file when
 * `getChunkSize` returns `requested` (Uppy's default is `ceil(size / 10000)`). The signer lays
 * stock-Uppy uploads out with it and the browser helper hashes with it, so both agree to the byte.
 */
export function uppyChunkSize(fileSize: number, requested: number = Math.ceil(fileSize / MAX_PARTS)): number {
  let chunk = Math.max(requested, MIN_PART_SIZE);
  if (Math.ceil(fileSize / chunk) > MAX_PARTS) chunk = Math.ceil(fileSize / MAX_PARTS);
  return chunk;
}
