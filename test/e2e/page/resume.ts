// Resume-anywhere helpers of the harness page (`window.resumeHarness`): files written into the
// origin-private file system (a headless browser shows no picker, and OPFS handles are real
// FileSystemFileHandles), uploads that keep their handle, and engine.pending() / resume(id).
import { ChuteEngine, type PendingUpload, type TabProgress, type Upload, UploaderError } from '@chute/uploader';

export interface ResumeHarnessOptions {
  concurrency?: number;
  partSize?: number;
}

const log = {
  uploaded: [] as number[],
  kept: [] as number[],
  remote: [] as TabProgress[],
  statuses: [] as string[],
};

let engine: ChuteEngine | undefined;
let running: Promise<Outcome> | undefined;

type Outcome = { ok: true; result: { key: string; keptParts: number; sentParts: number } } | { ok: false; error: { code: string; message: string } };

function engineFor(o: ResumeHarnessOptions): ChuteEngine {
  engine?.destroy();
  engine = new ChuteEngine({
    endpoint: '',
    concurrency: o.concurrency ?? 4,
    partSize: o.partSize ?? 5 * 1024 * 1024,
    multipartThreshold: 5 * 1024 * 1024,
    retry: { maxRetries: 10, baseDelayMs: 250, maxDelayMs: 2_000 },
  });
  engine.on('remote-progress', (m) => log.remote.push(m));
  return engine;
}

/** xorshift32 bytes: the test computes the same stream's SHA-256 in Node. */
function fill(words: Uint32Array, state: { x: number }) {
  let x = state.x;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  state.x = x;
}

async function opfsWrite(name: string, size: number, seed: number) {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  const state = { x: seed };
  const chunk = new Uint32Array(1024 * 1024 / 4);
  for (let done = 0; done < size; done += chunk.byteLength) {
    fill(chunk, state);
    await w.write(new Uint8Array(chunk.buffer, 0, Math.min(chunk.byteLength, size - done)));
  }
  await w.close();
  const file = await handle.getFile();
  return { size: file.size, lastModified: file.lastModified };
}

/** Overwrites one byte in place (the file's size stays; its date changes). */
async function opfsPoke(name: string, offset: number) {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name);
  const w = await handle.createWritable({ keepExistingData: true });
  await w.write({ type: 'write', position: offset, data: new Uint8Array([0x42]) });
  await w.close();
}

function track(upload: Upload): Promise<Outcome> {
  upload.on('part-uploaded', (n) => log.uploaded.push(n));
  upload.on('part-kept', (n) => log.kept.push(n));
  upload.on('status', (s) => log.statuses.push(s));
  running = upload.start().then(
    (r) => ({ ok: true as const, result: { key: r.key, keptParts: r.keptParts, sentParts: r.sentParts } }),
    (err: unknown) => ({
      ok: false as const,
      error: err instanceof UploaderError ? { code: err.code, message: err.message } : { code: 'unknown', message: String(err) },
    }),
  );
  return running;
}

/** Starts uploading an OPFS file with its handle kept in the resume record. */
async function startOpfs(name: string, o: ResumeHarnessOptions = {}) {
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(name);
  void track(engineFor(o).add(await handle.getFile(), { handle }));
}

async function pending(o: ResumeHarnessOptions = {}) {
  const list = await (engine ?? engineFor(o)).pending();
  return list.map(({ record: _, ...rest }: PendingUpload) => rest);
}

/** engine.resume(id); resolves once the upload ends (or resume itself refuses). */
async function resume(id: string, o: ResumeHarnessOptions & { restart?: boolean; waitForOtherTab?: boolean; background?: boolean } = {}) {
  const e = engine ?? engineFor(o);
  try {
    const upload = await e.resume(id, {
      ...(o.restart ? { restart: true } : {}),
      ...(o.waitForOtherTab ? { waitForOtherTab: true } : {}),
    });
    const out = track(upload);
    return o.background ? { ok: true as const, started: true } : await out;
  } catch (err) {
    return { ok: false as const, error: err instanceof UploaderError ? { code: err.code, message: err.message } : { code: 'unknown', message: String(err) } };
  }
}

Object.assign(window, {
  resumeHarness: { log, opfsWrite, opfsPoke, startOpfs, pending, resume, wait: () => running, engine: (o: ResumeHarnessOptions = {}) => void engineFor(o) },
});
