// Baseline: the same signer protocol and parallelism as Chute, but every part is hashed on the
// main thread (MD5 for Content-MD5, CRC64NVME for the full object) the way most peers hash.
import type { CompleteUploadResponse, CreateUploadResponse, SignPartsResponse } from '@chute/protocol';
import { createCRC64, createMD5 } from 'hash-wasm';
import { api, measure, theFile } from './common.js';

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  concurrency: number;
}

const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));

async function run(o: Opts) {
  return measure(async () => {
    const file = theFile();
    const up = await api<CreateUploadResponse>(o.signerUrl, o.token, 'POST', '/api/uploads', {
      name: file.name,
      type: 'application/octet-stream',
      size: file.size,
      multipart: true,
      partSize: o.partSize,
      checksumAlgorithm: 'CRC64NVME',
    });
    if (up.type !== 'multipart') throw new Error('expected multipart');
    const md5 = await createMD5();
    const crcPart = await createCRC64('9a6c9329ac4bc9b5');
    const crcAll = await createCRC64('9a6c9329ac4bc9b5');
    crcAll.init();
    const inflight = new Set<Promise<void>>();
    for (let n = 1; n <= up.partCount; n++) {
      const blob = file.slice((n - 1) * up.partSize, Math.min(file.size, n * up.partSize));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      md5.init();
      md5.update(bytes);
      crcPart.init();
      crcPart.update(bytes);
      crcAll.update(bytes);
      const partMd5 = b64(md5.digest('binary'));
      const { parts } = await api<SignPartsResponse>(o.signerUrl, o.token, 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/parts`, {
        token: up.token,
        parts: [{ partNumber: n, md5: partMd5 }],
      });
      const p = parts[0];
      if (!p) throw new Error('no signed part');
      const put = fetch(p.url, { method: 'PUT', headers: p.headers, body: blob }).then(async (r) => {
        if (!r.ok) throw new Error(`part ${n}: ${r.status} ${await r.text()}`);
      });
      const tracked = put.finally(() => inflight.delete(tracked));
      inflight.add(tracked);
      if (inflight.size >= o.concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const done = await api<CompleteUploadResponse>(o.signerUrl, o.token, 'POST', `/api/uploads/${encodeURIComponent(up.uploadId)}/complete`, {
      token: up.token,
      checksum: b64(crcAll.digest('binary')),
    });
    return { key: done.key, detail: { partCount: up.partCount, partSize: up.partSize } };
  });
}

(window as unknown as { bench: unknown }).bench = { run };
