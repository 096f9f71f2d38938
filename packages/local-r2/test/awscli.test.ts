import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, privateAwsEnv, MiB, random } from './helpers.js';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';

let h: Harness;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  h = await harness();
  env = await privateAwsEnv(h);
});
afterAll(() => h.stop());

async function aws(...args: string[]): Promise<string> {
  const { stdout } = await run(AWS, ['--endpoint-url', h.r2.endpoint, '--output', 'json', ...args], { env, maxBuffer: 1 << 20 });
  return stdout;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('Debian awscli v2 against local-r2', () => {
  it('copies a 50 MiB file up as multipart and back down intact', async () => {
    const data = random(50 * MiB);
    const src = join(h.dir, 'big.bin');
    const back = join(h.dir, 'big.back');
    await writeFile(src, data);
    await aws('s3', 'cp', src, 's3://test/cli/big.bin', '--only-show-errors');
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'test', '--key', 'cli/big.bin'));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-\d+"$/); // multipart: md5 of part md5s + -N
    await aws('s3', 'cp', 's3://test/cli/big.bin', back, '--only-show-errors');
    expect(md5(await readFile(back))).toBe(md5(data));
    const ls = await aws('s3', 'ls', 's3://test/cli/');
    expect(ls).toContain('big.bin');
  }, 120_000);

  it('lists parts and aborts a multipart upload with s3api', async () => {
    const created = JSON.parse(await aws('s3api', 'create-multipart-upload', '--bucket', 'test', '--key', 'cli/parts'));
    const partFile = join(h.dir, 'part.bin');
    const part = random(5 * MiB);
    await writeFile(partFile, part);
    for (const n of ['1', '2'])
      await aws('s3api', 'upload-part', '--bucket', 'test', '--key', 'cli/parts', '--upload-id', created.UploadId, '--part-number', n, '--body', partFile);
    const parts = JSON.parse(await aws('s3api', 'list-parts', '--bucket', 'test', '--key', 'cli/parts', '--upload-id', created.UploadId));
    expect(parts.Parts.map((p: { PartNumber: number; Size: number; ETag: string }) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, part.length, `"${md5(part)}"`],
      [2, part.length, `"${md5(part)}"`],
    ]);
    await aws('s3api', 'abort-multipart-upload', '--bucket', 'test', '--key', 'cli/parts', '--upload-id', created.UploadId);
    const failed = await aws('s3api', 'list-parts', '--bucket', 'test', '--key', 'cli/parts', '--upload-id', created.UploadId).catch(
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toContain('NoSuchUpload');
  }, 60_000);

  it('sets and reads CORS with put-bucket-cors / get-bucket-cors', async () => {
    const cors = {
      CORSRules: [{ AllowedOrigins: ['http://localhost:5173'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }],
    };
    await aws('s3api', 'put-bucket-cors', '--bucket', 'test', '--cors-configuration', JSON.stringify(cors));
    expect(JSON.parse(await aws('s3api', 'get-bucket-cors', '--bucket', 'test'))).toEqual(cors);
    const pre = await fetch(`${h.r2.endpoint}/test/x`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(200);
  }, 60_000);
});
