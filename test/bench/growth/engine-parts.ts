// Growth in part count, the engine's side (part of `pnpm bench --growth`): @chute/uploader's
// ChuteEngine driving a 1,000- and a 10,000-part upload (5 MiB parts) in this Node process with an
// instant signer, transport and hasher (no bytes are read or sent), so what is measured is the
// engine's own bookkeeping: its time from start to the complete call, and the heap it keeps per
// part (after a forced full GC, at part 50 and near the end). A part count the browser could only
// reach with a 50 GiB file.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ChuteEngine, MemoryLocks, MemoryRecordStore, silentChannel } from '@chute/uploader';

const PART = 5 * 1024 * 1024;
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

export interface EnginePartsRun {
  parts: number;
  /** From upload() to the complete call. */
  ms: number;
  heapAtPart50MB: number;
  heapNearEndMB: number;
  /** (near the end − at part 50) ÷ the parts between. */
  retainedBytesPerPart: number;
}

function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function benchEngineParts(count: number): Promise<EnginePartsRun> {
  const gc = exposeGc();
  const heap = async () => {
    await new Promise((r) => setTimeout(r, 0));
    gc();
    return process.memoryUsage().heapUsed;
  };
  let sent = 0;
  let at50 = 0;
  let nearEnd = 0;
  let completeAt = 0;
  // A presigned R2 part URL is ~600 characters; the signature stands in for the query.
  const sig = 'f'.repeat(520);
  const signer = {
    async create(req: { size: number; name: string }) {
      return {
        type: 'multipart' as const,
        key: `growth/${req.name}`,
        uploadId: 'growth-upload',
        partSize: PART,
        partCount: Math.ceil(req.size / PART),
        checksumAlgorithm: 'CRC64NVME' as const,
        md5Required: true,
        token: 'tok',
        tokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      };
    },
    async signParts(_u: string, _t: string, parts: { partNumber: number; md5?: string }[]) {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      return {
        parts: parts.map((p) => ({
          partNumber: p.partNumber,
          size: PART,
          method: 'PUT' as const,
          url: `https://account.r2.cloudflarestorage.com/bucket/growth/f.bin?partNumber=${p.partNumber}&uploadId=growth-upload&X-Amz-Signature=${sig}`,
          headers: { 'content-md5': `${p.md5}` },
          expiresAt,
        })),
      };
    },
    async listParts() {
      return { key: 'k', uploadId: 'growth-upload', parts: [] };
    },
    async complete(): Promise<never> {
      completeAt = performance.now();
      throw new Error('growth-bench: stop at complete');
    },
    async abort() {},
  };
  const transport = {
    async put() {
      sent++;
      if (sent === 50) at50 = await heap();
      if (sent === count - 10) nearEnd = await heap();
      return { etag: `"${MD5}"`, header: () => null };
    },
  };
  const hasher = {
    async hashPart(_b: Blob, start: number, end: number) {
      return { size: end - start, md5: MD5, crc64nvme: '0000000000000000' };
    },
    async probe() {
      return 'probe';
    },
    terminate() {},
  };
  // Only size, name, type, lastModified and slice are used; the slices are never read.
  const file = { name: `f${count}.bin`, size: count * PART, type: 'application/octet-stream', lastModified: 1, slice: () => new Blob([]) } as unknown as File;
  const engine = new ChuteEngine({
    endpoint: 'http://signer.invalid',
    signer: signer as never,
    transport: transport as never,
    hasher: hasher as never,
    store: new MemoryRecordStore(),
    locks: new MemoryLocks(),
    channel: silentChannel,
    connectivity: { isOnline: () => true, waitOnline: async () => {} },
  } as ConstructorParameters<typeof ChuteEngine>[0]);
  const t0 = performance.now();
  try {
    const err = await engine.upload(file).then(
      () => new Error('growth-bench: the upload completed against a signer that refuses to'),
      (e: unknown) => e,
    );
    if (!String(err).includes('stop at complete')) throw err;
  } finally {
    engine.destroy();
  }
  const mb = (b: number) => Math.round((b / 1e6) * 100) / 100;
  return {
    parts: count,
    ms: Math.round(completeAt - t0),
    heapAtPart50MB: mb(at50),
    heapNearEndMB: mb(nearEnd),
    retainedBytesPerPart: Math.round((nearEnd - at50) / (count - 60)),
  };
}
