import { request } from 'node:http';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalR2 } from '../src/index.js';
import { codeOf, type Harness, harness, MiB, md5hex, random, signRaw } from './helpers.js';
import { presigner, sdk } from './sdk.js';

const { GetObjectCommand, PutObjectCommand } = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

async function dataFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdir(join(dir, 'blobs'))) out.push(...(await readdir(join(dir, 'blobs', shard))));
  return out;
}

describe('durability and isolation', () => {
  it('an upload cut off mid-body stores nothing and leaves no file behind', async () => {
    const before = await dataFiles(h.dir);
    const signed = await signRaw(h.r2.endpoint, { method: 'PUT', path: '/test/cut', payloadHash: 'UNSIGNED-PAYLOAD' });
    await new Promise<void>((resolve) => {
      const req = request(signed.url, { method: 'PUT', headers: { ...signed.headers, 'content-length': String(4 * MiB) } });
      req.on('error', () => resolve());
      req.write(random(MiB), () => setTimeout(() => req.destroy(), 100));
    });
    // Give the server a moment to notice the reset and clean up.
    for (let i = 0; i < 50 && (await dataFiles(h.dir)).length !== before.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await dataFiles(h.dir)).sort()).toEqual(before.sort());
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'cut' })))).toBe('NoSuchKey');
  });

  it('a GET of a multipart object that started before an overwrite finishes with the old bytes', async () => {
    // Part files are opened one after another, so without pinning the overwrite would delete
    // the second part under the reader.
    const parts = [random(5 * MiB), random(3 * MiB)];
    const oldBody = Buffer.concat(parts);
    const { UploadId } = await h.s3.send(new sdk.CreateMultipartUploadCommand({ Bucket: 'test', Key: 'swap' }));
    const etags = [];
    for (const [i, p] of parts.entries())
      etags.push((await h.s3.send(new sdk.UploadPartCommand({ Bucket: 'test', Key: 'swap', UploadId, PartNumber: i + 1, Body: p }))).ETag);
    await h.s3.send(
      new sdk.CompleteMultipartUploadCommand({
        Bucket: 'test',
        Key: 'swap',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    const url = await presigner.getSignedUrl(h.s3, new GetObjectCommand({ Bucket: 'test', Key: 'swap' }));
    const res = await fetch(url);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const newBody = random(8 * MiB);
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'swap', Body: newBody }));
    const chunks = [Buffer.from(first.value ?? new Uint8Array())];
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(Buffer.from(r.value));
    }
    expect(md5hex(Buffer.concat(chunks))).toBe(md5hex(oldBody));
    const now = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'swap' }));
    const bytes = Buffer.from(await (now.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(md5hex(bytes)).toBe(md5hex(newBody));
    // The old file was deleted once the reader was done: one file for the one object.
    const files = await dataFiles(h.dir);
    expect(files.length).toBe(1);
  });

  it('deletes data files nobody points at when it starts (left by a crash mid-write)', async () => {
    const dir = h.dir;
    await h.r2.close();
    await mkdir(join(dir, 'blobs', 'ab'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'ab', 'ab0000000000000000000000000000ff'), 'half a body');
    const kept = await dataFiles(dir);
    expect(kept).toContain('ab0000000000000000000000000000ff');
    h.r2 = await startLocalR2({ dataDir: dir, sweepIntervalMs: 0 });
    const after = await dataFiles(dir);
    expect(after).not.toContain('ab0000000000000000000000000000ff');
    expect(after.length).toBe(kept.length - 1);
  });
});
