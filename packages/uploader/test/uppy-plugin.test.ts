// The Uppy bridge with @uppy/core 6 itself (it runs in Node) and the fake bucket + signer:
// the events Uppy users rely on, pause through Uppy, and several files sharing the slots.
import { createHash, randomBytes } from 'node:crypto';
import { MiB } from '@chute/protocol';
import Uppy, { type Body, type Meta } from '@uppy/core';
import { expect, test } from 'vitest';
import { ChuteEngine } from '../src/engine.js';
import { MemoryRecordStore } from '../src/record-store.js';
import { TransportError } from '../src/transport.js';
import { type ChuteBody, ChuteUppyPlugin } from '../src/uppy-plugin.js';
import { FakeBackend, NodeHasher } from './fakes.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function setup(concurrency = 3) {
  const backend = new FakeBackend();
  backend.putDelayMs = 15;
  const engine = new ChuteEngine({
    endpoint: 'http://signer.test',
    signer: backend,
    transport: backend,
    hasher: new NodeHasher(),
    store: new MemoryRecordStore(),
    connectivity: { isOnline: () => true, waitOnline: async () => {} },
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    concurrency,
  });
  const uppy = new Uppy<Meta, Body>({ id: 'test' }).use(ChuteUppyPlugin, { engine });
  return { backend, engine, uppy };
}

test('upload-progress, upload-success (key, location, verifiedBy) and the verified file state', async () => {
  const { backend, uppy } = setup();
  const bytes = randomBytes(12 * MiB);
  const id = uppy.addFile({ name: 'a.bin', type: 'application/octet-stream', data: new Blob([bytes]) });
  const progress: number[] = [];
  uppy.on('upload-progress', (_f, p) => progress.push(p.bytesUploaded as number));
  let success: ChuteBody | undefined;
  uppy.on('upload-success', (_f, res) => {
    success = res.body as unknown as ChuteBody;
  });
  const result = await uppy.upload();
  expect(result?.successful?.map((f) => f.id)).toEqual([id]);
  expect(success?.key).toBe('u/a.bin');
  expect(success?.verifiedBy?.algorithm).toBe('CRC64NVME');
  expect(progress.at(-1)).toBe(bytes.length);
  expect(sha(backend.objects.get('u/a.bin') as Uint8Array)).toBe(sha(bytes));
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  expect(plugin.fileState(id)?.status).toBe('verified');
  expect(uppy.getFile(id).progress.uploadComplete).toBe(true);
});

test('several files share the engine slots; each lands intact', async () => {
  const { backend, engine, uppy } = setup(3);
  const files = [randomBytes(11 * MiB), randomBytes(16 * MiB), randomBytes(3)];
  files.forEach((b, i) => uppy.addFile({ name: `f${i}.bin`, type: '', data: new Blob([b]) }));
  const result = await uppy.upload();
  expect(result?.successful?.length).toBe(3);
  expect(engine.inFlight.peak).toBeLessThanOrEqual(3);
  expect(engine.inFlight.peak).toBeGreaterThan(1);
  files.forEach((b, i) => expect(sha(backend.objects.get(`u/f${i}.bin`) as Uint8Array)).toBe(sha(b)));
});

test('pause and resume through Uppy; an error is reported with upload-error', async () => {
  const { backend, uppy } = setup(1);
  const bytes = randomBytes(16 * MiB);
  const id = uppy.addFile({ name: 'p.bin', type: '', data: new Blob([bytes]) });
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  uppy.once('upload-progress', () => {
    uppy.pauseResume(id);
    setTimeout(() => {
      expect(plugin.fileState(id)?.status).toBe('paused');
      uppy.pauseResume(id);
    }, 50);
  });
  await uppy.upload();
  expect(sha(backend.objects.get('u/p.bin') as Uint8Array)).toBe(sha(bytes));

  const bad = uppy.addFile({ name: 'bad.bin', type: '', data: new Blob([randomBytes(10)]) });
  const { TransportError } = await import('../src/transport.js');
  backend.failNext.push(() => new TransportError({ kind: 'http', status: 400, code: 'InvalidArgument', message: 'no' }));
  const errors: string[] = [];
  uppy.on('upload-error', (_f, err) => errors.push(err.message));
  await uppy.upload();
  expect(errors[0]).toMatch(/InvalidArgument/);
  expect(plugin.fileState(bad)?.error?.code).toBe('part_rejected');
});

test('removing a file whose upload failed aborts its multipart upload', async () => {
  const { backend, engine, uppy } = setup(1);
  const { TransportError } = await import('../src/transport.js');
  const id = uppy.addFile({ name: 'f.bin', type: '', data: new Blob([randomBytes(11 * MiB)]) });
  // Part 1 goes through, then the bucket refuses for good: the upload fails with its MPU open.
  backend.failNext.push(
    () => undefined,
    () => new TransportError({ kind: 'http', status: 400, code: 'InvalidArgument' }),
  );
  await uppy.upload();
  expect(backend.uploads.size).toBe(1);
  expect(engine.uploads).toEqual([]);
  uppy.removeFile(id);
  await expect.poll(() => backend.uploads.size).toBe(0);
  expect((uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>).fileState(id)).toBeUndefined();
});

test('retry after a failure resumes from the bucket: stored parts are verified and kept', async () => {
  const { backend, uppy } = setup(1);
  const { TransportError } = await import('../src/transport.js');
  const bytes = randomBytes(16 * MiB); // 4 parts
  const id = uppy.addFile({ name: 'r.bin', type: '', data: new Blob([bytes]) });
  backend.failNext.push(
    () => undefined,
    () => undefined,
    () => new TransportError({ kind: 'http', status: 400, code: 'InvalidArgument' }),
  );
  const first = await uppy.upload();
  expect(first?.failed?.map((f) => f.id)).toEqual([id]);
  const retried = await uppy.retryAll();
  expect(retried?.successful?.map((f) => f.id)).toEqual([id]);
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  expect(plugin.fileState(id)).toMatchObject({ status: 'verified', keptParts: 2, sentParts: 2 });
  expect(sha(backend.objects.get('u/r.bin') as Uint8Array)).toBe(sha(bytes));
});

test('rememberHandles keeps a picked file handle with its record; resumePending continues it through Uppy', async () => {
  const { backend, engine, uppy } = setup(1);
  const bytes = randomBytes(16 * MiB);
  const file = new File([bytes], 'kept.bin', { type: 'application/octet-stream', lastModified: 1_700_000_000_000 });
  const handle = { kind: 'file' as const, name: 'kept.bin', getFile: async () => file, queryPermission: async () => 'granted' as const };
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  await plugin.rememberHandles([handle]);
  const id = uppy.addFile({ name: 'kept.bin', type: 'application/octet-stream', data: file });
  backend.failNext.push(
    () => undefined,
    (req) => (req.url.includes('/2?') ? new TransportError({ kind: 'http', status: 400, code: 'InvalidArgument' }) : undefined),
  );
  await uppy.upload();
  expect(plugin.fileState(id)?.status).toBe('failed');
  const [p] = await engine.pending();
  expect(p).toMatchObject({ name: 'kept.bin', hasHandle: true, partsDone: 1 });
  const done = new Promise<ChuteBody>((resolve) => uppy.on('upload-success', (_f, res) => resolve(res.body as unknown as ChuteBody)));
  expect(await plugin.resumePending(p?.id as string)).toBe(id); // the file already in Uppy is retried
  const body = await done;
  expect(sha(backend.objects.get(body.key) as Uint8Array)).toBe(sha(bytes));
  expect(plugin.fileState(id)?.keptParts).toBe(1);
  expect(await engine.pending()).toEqual([]);
});

// A large selection is handed to Uppy in slices (one task each), not in one addFiles.
const many = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(4, '0')}.bin`, type: 'application/octet-stream', data: new Blob([`${prefix}${i}`]) }));

test('addFiles of a large selection: added in slices, in order, all of them; upload() meanwhile uploads the whole selection', async () => {
  const { backend, uppy } = setup(8);
  backend.putDelayMs = 0;
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  const batches: number[] = [];
  uppy.on('files-added', (added) => batches.push(added.length));
  uppy.addFiles(many(120));
  // The first slice is in at once, the rest follows in later tasks.
  expect(uppy.getFiles().length).toBeGreaterThan(0);
  expect(uppy.getFiles().length).toBeLessThan(120);
  expect(plugin.addingFiles).toBe(true);
  const result = await uppy.upload();
  expect(plugin.addingFiles).toBe(false);
  expect(batches.length).toBeGreaterThan(1);
  expect(batches.reduce((a, b) => a + b, 0)).toBe(120);
  expect(uppy.getFiles().map((f) => f.name)).toEqual(many(120).map((f) => f.name));
  expect(result?.successful?.length).toBe(120);
  expect(backend.objects.size).toBe(120);
});

test('addFiles: small selections, addFilesSlice: 0 and a selection over maxNumberOfFiles go to Uppy at once, as stock', async () => {
  const { engine } = setup();
  const small = new Uppy<Meta, Body>({ id: 'small' }).use(ChuteUppyPlugin, { engine });
  small.addFiles(many(50));
  expect(small.getFiles().length).toBe(50);

  const off = new Uppy<Meta, Body>({ id: 'off' }).use(ChuteUppyPlugin, { engine, addFilesSlice: 0 });
  off.addFiles(many(200));
  expect(off.getFiles().length).toBe(200);

  const limited = new Uppy<Meta, Body>({ id: 'limited', restrictions: { maxNumberOfFiles: 100 } }).use(ChuteUppyPlugin, { engine });
  const refused: string[] = [];
  limited.on('restriction-failed', (_f, err) => refused.push(err.message));
  limited.addFiles(many(150));
  expect(limited.getFiles().length).toBe(0); // refused as a whole, not 100 of them
  expect(refused.length).toBe(1);

  // Removing the plugin gives Uppy its own addFiles / upload back.
  off.removePlugin(off.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>);
  expect(Object.hasOwn(off, 'addFiles')).toBe(false);
  expect(Object.hasOwn(off, 'upload')).toBe(false);
});

test('addFiles: cancelAll while a large selection is being added drops the rest of it', async () => {
  const { uppy } = setup();
  const plugin = uppy.getPlugin('Chute') as ChuteUppyPlugin<Meta, Body>;
  uppy.addFiles(many(300));
  uppy.cancelAll();
  await expect.poll(() => plugin.addingFiles).toBe(false);
  expect(uppy.getFiles().length).toBe(0);
  // A second selection while one is being added queues behind it.
  uppy.addFiles(many(100, 'a'));
  uppy.addFiles(many(3, 'b'));
  await expect.poll(() => plugin.addingFiles).toBe(false);
  expect(uppy.getFiles().map((f) => f.name)).toEqual([...many(100, 'a'), ...many(3, 'b')].map((f) => f.name));
});
