// Reads its part with blob.slice() inside the worker (the main thread never touches the bytes).
import { digest, hex } from './hash-core.js';

self.onmessage = async (e) => {
  const { id, blob, start, end, algo } = e.data;
  const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
  const d = await digest(algo, bytes);
  self.postMessage({ id, hex: hex(d) });
};
