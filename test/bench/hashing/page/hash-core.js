// Digest of one part with the implementation under test; shared by the worker and the main thread.
import { createCRC32, createCRC64, createMD5, createSHA256 } from '/vendor/hash-wasm.js';

const factories = {
  md5: () => createMD5(),
  crc32c: () => createCRC32(0x82f63b78),
  crc64nvme: () => createCRC64('9a6c9329ac4bc9b5'),
  sha256: () => createSHA256(),
};
const hashers = new Map();

/** CPU control: pure integer work over the bytes, no hashing library; shows how far N threads can scale right now. */
function spin(bytes) {
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let x = 0;
  for (let i = 0; i < words.length; i++) x = (Math.imul(x ^ words[i], 1103515245) + 12345) | 0;
  return new Uint8Array(new Int32Array([x]).buffer);
}

export async function digest(algo, bytes) {
  if (algo === 'spin') return spin(bytes);
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
