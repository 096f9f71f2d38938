// Web Worker: reads its own `blob.slice()` and hashes it. MD5 and CRC64NVME with hash-wasm
// (WASM, streaming); SHA-256 with WebCrypto (native, ~4× hash-wasm) when the context has it.
import { createCRC64, createMD5, createSHA256, type IHasher } from 'hash-wasm';
import { CRC64NVME_HASH_WASM_POLY } from './crc64.js';
import { bytesToHex } from './encoding.js';
import type { HashRequest, HashResponse, PartDigest } from './hash-messages.js';
import { probeBytesOf } from './probe.js';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

// One instance per algorithm per worker, re-initialised per part (instances are cheap to reuse).
let md5: Promise<IHasher> | undefined;
let crc64: Promise<IHasher> | undefined;
let sha256: Promise<IHasher> | undefined;

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  if (globalThis.crypto?.subtle) return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
  sha256 ??= createSHA256(); // insecure contexts (plain http, not localhost) have no SubtleCrypto
  const h = await sha256;
  return h.init().update(bytes).digest('hex');
}

async function hashPart(req: Extract<HashRequest, { type: 'part' }>): Promise<PartDigest> {
  const { options } = req;
  // A whole file (every single-PUT file) is read as itself: in Chromium each slice() of a picked
  // File is a new blob registered through the browser process (~0.4 ms a call).
  const blob = req.start === 0 && req.end === req.blob.size ? req.blob : req.blob.slice(req.start, req.end);
  const hashers: IHasher[] = [];
  let md5h: IHasher | undefined;
  let crch: IHasher | undefined;
  if (options.md5) hashers.push((md5h = (await (md5 ??= createMD5())).init()));
  if (options.crc64nvme) hashers.push((crch = (await (crc64 ??= createCRC64(CRC64NVME_HASH_WASM_POLY))).init()));
  const digest: PartDigest = { size: blob.size };
  if (options.sha256 || options.probeBytes !== undefined) {
    // WebCrypto is one-shot, and a small file's probe comes from the same bytes: read whole
    // (memory: one part per worker; probes are asked only for single-PUT files).
    const bytes = new Uint8Array(await blob.arrayBuffer());
    for (const h of hashers) h.update(bytes);
    if (options.sha256) digest.sha256 = await sha256Hex(bytes);
    if (options.probeBytes !== undefined) digest.probe = await sha256Hex(probeOf(bytes, options.probeBytes));
  } else {
    // Streamed: reading overlaps hashing, each chunk feeds every hasher while it is in cache,
    // and a worker holds one chunk rather than a whole part.
    const reader = blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const h of hashers) h.update(value);
    }
  }
  if (md5h) digest.md5 = md5h.digest('hex');
  if (crch) digest.crc64nvme = crch.digest('hex');
  return digest;
}

/** The same bytes `probe()` hashes: the first and last `probeBytes` (overlapping for small files). */
function probeOf(bytes: Uint8Array<ArrayBuffer>, probeBytes: number): Uint8Array<ArrayBuffer> {
  const head = bytes.subarray(0, Math.min(probeBytes, bytes.length));
  const tail = bytes.subarray(Math.max(0, bytes.length - probeBytes));
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

async function probe(req: Extract<HashRequest, { type: 'probe' }>): Promise<string> {
  return sha256Hex(await probeBytesOf(req.blob, req.probeBytes));
}

scope.onmessage = async (event: MessageEvent<HashRequest>) => {
  const req = event.data;
  let res: HashResponse;
  try {
    res = req.type === 'part' ? { id: req.id, ok: true, digest: await hashPart(req) } : { id: req.id, ok: true, probe: await probe(req) };
  } catch (err) {
    // A file changed or deleted on disk since it was picked surfaces here as NotReadableError.
    res = { id: req.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  scope.postMessage(res);
};
