// Digest of one part with the implementation under test; shared by the worker and the main thread.
import { createCRC32, createCRC64, createMD5, createSHA256 } from '/vendor/hash-wasm.js';

const factories = {
  md5: () => createMD5(),
  crc32c: () => createCRC32(0x82f63b78),
  crc64nvme: () => createCRC64('9a6c9329ac4bc9b5'),
  sha256: () => createSHA256(),
};
const hashers = new Map();

export async function digest(algo, bytes) {
  if (algo === 'sha256-webcrypto') return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let h = hashers.get(algo);
  if (!h) {
    h = await factories[algo]();
    hashers.set(algo, h);
  }
  h.init();
  h.update(bytes);
  return h.digest('binary');
}

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
