// Reads its part with blob.slice() inside the worker (the main thread never touches the bytes).
// source 'memory' hashes a buffer the worker already holds instead: no file read at all.
import { digest, hex } from './hash-core.js';

let held;
function inMemory(size) {
  if (held?.length !== size) {
    held = new Uint8Array(size);
    for (let o = 0; o < size; o += 65536) crypto.getRandomValues(held.subarray(o, Math.min(size, o + 65536)));
  }
  return held;
}

self.onmessage = async (e) => {
  const { id, blob, start, end, algo, source } = e.data;
  const bytes = source === 'memory' ? inMemory(end - start) : new Uint8Array(await blob.slice(start, end).arrayBuffer());
  const d = await digest(algo, bytes);
  self.postMessage({ id, hex: hex(d) });
};
