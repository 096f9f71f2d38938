// A file's identity across reloads: metadata (what tus/EvaporateJS use) plus a content probe
// (SHA-256 of the first and last 64 KiB, hashed in a worker) so a different file that happens
// to share name, size and date is not mistaken for the one being resumed.
import type { PartHasher } from './hash-pool.js';

export const PROBE_BYTES = 64 * 1024;

export interface FileLike {
  name: string;
  size: number;
  type: string;
  lastModified?: number;
}

export function metadataFingerprint(file: FileLike, endpoint: string): string {
  // JSON keeps separators unambiguous whatever the name contains.
  return JSON.stringify(['chute-v1', endpoint, file.name, file.size, file.lastModified ?? 0, file.type]);
}

export async function fingerprintOf(file: Blob & FileLike, endpoint: string, hasher: PartHasher): Promise<string> {
  const probe = await hasher.probe(file, PROBE_BYTES);
  return `${metadataFingerprint(file, endpoint)}#${probe}`;
}
