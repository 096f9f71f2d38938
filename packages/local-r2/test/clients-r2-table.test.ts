import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, privateAwsEnv, MiB, md5hex, random } from './helpers.js';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';

let h: Harness;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  h = await harness();
  env = await privateAwsEnv(h);
});
afterAll(() => h.stop());

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(AWS, ['--endpoint-url', h.r2.endpoint, '--output', 'json', ...args], { env, maxBuffer: 1 << 20 });
  return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
}

/** The error text of a failing aws call (it must fail). */
async function awsFails(...args: string[]): Promise<string> {
  try {
    await aws(...args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`aws ${args.join(' ')} should have failed`);
}

const KEY = 'k'.repeat(16) + 'K'.repeat(16); // the CLI takes the 32 key bytes as text
const OTHER = 'o'.repeat(32);
const sse = (k: string) => ['--sse-customer-algorithm', 'AES256', '--sse-customer-key', k];

describe('R2 operation table with Debian awscli v2', () => {
  it('awscli: SSE-C put/get/head, wrong or missing key refused, re-encrypting copy, s3 cp --sse-c up (multipart) and down', async () => {
    const body = random(40_000);
    const src = join(h.dir, 'enc.bin');
    const out = join(h.dir, 'enc.out');
    await writeFile(src, body);
    await aws('s3api', 'put-object', '--bucket', 'test', '--key', 'cli/enc', '--body', src, ...sse(KEY));
    const head = await aws('s3api', 'head-object', '--bucket', 'test', '--key', 'cli/enc', ...sse(KEY));
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    await aws('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/enc', '--range', 'bytes=100-30099', ...sse(KEY), out);
    expect((await readFile(out)).equals(body.subarray(100, 30100))).toBe(true);
    expect(await awsFails('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/enc', ...sse(OTHER), out)).toContain('AccessDenied');
    expect(await awsFails('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/enc', out)).toContain('InvalidRequest');
    await aws('s3api', 'copy-object', '--bucket', 'test', '--key', 'cli/enc2', '--copy-source', 'test/cli/enc', '--copy-source-sse-customer-algorithm', 'AES256', '--copy-source-sse-customer-key', KEY, ...sse(OTHER));
    await aws('s3', 'cp', 's3://test/cli/enc2', out, '--sse-c', 'AES256', '--sse-c-key', OTHER, '--only-show-errors');
    expect((await readFile(out)).equals(body)).toBe(true);
    // 9 MiB crosses the CLI's 8 MiB threshold: a multipart upload with SSE-C on every part, read
    // back by the CLI with its own ranged GETs.
    const big = random(9 * MiB);
    await writeFile(src, big);
    await aws('s3', 'cp', src, 's3://test/cli/encbig', '--sse-c', 'AES256', '--sse-c-key', KEY, '--only-show-errors');
    const bigHead = await aws('s3api', 'head-object', '--bucket', 'test', '--key', 'cli/encbig', ...sse(KEY));
    expect(bigHead.ETag).toMatch(/-2"$/);
    await aws('s3', 'cp', 's3://test/cli/encbig', out, '--sse-c', 'AES256', '--sse-c-key', KEY, '--only-show-errors');
    expect(md5hex(await readFile(out))).toBe(md5hex(big));
  });

  it('awscli: conditions, unsatisfiable range, partNumber, overrides, upload-part-copy with a range, missing copy source', async () => {
    const out = join(h.dir, 'c.out');
    const src = join(h.dir, 'c.bin');
    const body = random(5 * MiB + 10);
    await writeFile(src, body);
    const put = await aws('s3api', 'put-object', '--bucket', 'test', '--key', 'cli/c', '--body', src);
    expect(await awsFails('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/c', '--if-match', '"nope"', out)).toContain('PreconditionFailed');
    expect(await awsFails('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/c', '--if-none-match', put.ETag as string, out)).toContain('304');
    expect(await awsFails('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/c', '--range', `bytes=${body.length}-`, out)).toContain('InvalidRange');
    const g = await aws('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/c', '--response-content-type', 'text/x-test', '--response-cache-control', 'no-store', out);
    expect([g.ContentType, g.CacheControl]).toEqual(['text/x-test', 'no-store']);
    const up = await aws('s3api', 'create-multipart-upload', '--bucket', 'test', '--key', 'cli/upc', '--storage-class', 'STANDARD_IA');
    const copyPart = (n: number, range: string) =>
      aws('s3api', 'upload-part-copy', '--bucket', 'test', '--key', 'cli/upc', '--upload-id', up.UploadId as string, '--part-number', String(n), '--copy-source', 'test/cli/c', '--copy-source-range', range);
    const p1 = (await copyPart(1, `bytes=10-${5 * MiB + 9}`)).CopyPartResult as { ETag: string };
    const p2 = (await copyPart(2, 'bytes=0-9')).CopyPartResult as { ETag: string };
    expect(p1.ETag).toBe(`"${md5hex(body.subarray(10))}"`);
    const parts = JSON.stringify({ Parts: [{ ETag: p1.ETag, PartNumber: 1 }, { ETag: p2.ETag, PartNumber: 2 }] });
    await aws('s3api', 'complete-multipart-upload', '--bucket', 'test', '--key', 'cli/upc', '--upload-id', up.UploadId as string, '--multipart-upload', parts);
    const pn = await aws('s3api', 'get-object', '--bucket', 'test', '--key', 'cli/upc', '--part-number', '2', out);
    expect(pn.PartsCount).toBe(2);
    expect(pn.StorageClass).toBe('STANDARD_IA');
    expect((await readFile(out)).equals(body.subarray(0, 10))).toBe(true);
    expect(await awsFails('s3api', 'copy-object', '--bucket', 'test', '--key', 'cli/x', '--copy-source', 'test/cli/missing')).toContain('NoSuchKey');
  });

  it('awscli: location, encryption, ListObjects v1, quiet DeleteObjects, ignored ACL header, tagging and ❌ operations → NotImplemented', async () => {
    expect((await aws('s3api', 'get-bucket-location', '--bucket', 'test')).LocationConstraint).toBe('auto');
    const enc = (await aws('s3api', 'get-bucket-encryption', '--bucket', 'test')) as { ServerSideEncryptionConfiguration: { Rules: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: string } }[] } };
    expect(enc.ServerSideEncryptionConfiguration.Rules[0]?.ApplyServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    await aws('s3api', 'put-object', '--bucket', 'test', '--key', 'cli/l/a', '--acl', 'public-read', '--expected-bucket-owner', '1');
    expect(await awsFails('s3api', 'put-object', '--bucket', 'test', '--key', 'cli/l/t', '--tagging', 'a=b')).toContain('NotImplemented');
    await aws('s3api', 'put-object', '--bucket', 'test', '--key', 'cli/l/b');
    const v1 = (await aws('s3api', 'list-objects', '--bucket', 'test', '--prefix', 'cli/l/', '--max-keys', '1', '--no-paginate')) as { Contents: { Key: string }[]; IsTruncated: boolean };
    expect([v1.Contents.map((c) => c.Key), v1.IsTruncated]).toEqual([['cli/l/a'], true]);
    const del = await aws('s3api', 'delete-objects', '--bucket', 'test', '--delete', JSON.stringify({ Quiet: true, Objects: [{ Key: 'cli/l/a' }, { Key: 'cli/l/b' }] }));
    expect(del.Deleted).toBeUndefined();
    expect(await awsFails('s3api', 'get-bucket-policy', '--bucket', 'test')).toContain('NotImplemented');
    expect(await awsFails('s3api', 'put-object-tagging', '--bucket', 'test', '--key', 'cli/c', '--tagging', 'TagSet=[{Key=a,Value=b}]')).toContain('NotImplemented');
  });
});

describe('R2 operation table with boto3 (Debian python3-boto3)', () => {
  let results: Record<string, string>;
  beforeAll(async () => {
    const script = join(import.meta.dirname, 'boto3_r2_table.py');
    const { stdout } = await run(PYTHON, [script, h.r2.endpoint, 'test'], { env: { ...env, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 1 << 20 });
    results = JSON.parse(stdout) as Record<string, string>;
  }, 120_000);

  it('boto3: SSE-C put/get/head with ranges; missing key 400, wrong key 403', () => {
    expect(results.sse_c_put_get_head).toBe('ok');
  });
  it('boto3: SSE-C multipart, partNumber, re-encrypting CopyObject and UploadPartCopy with a range', () => {
    expect(results.sse_c_multipart_and_copies).toBe('ok');
  });
  it('boto3: conditional reads (304/412), ranges and 416, response-* overrides', () => {
    expect(results.conditional_reads_ranges_overrides).toBe('ok');
  });
  it('boto3: CopyObject COPY/REPLACE, storage classes, failed source condition, missing source', () => {
    expect(results.copy_object_metadata_conditions_missing_source).toBe('ok');
  });
  it('boto3: GetObject/HeadObject partNumber with PartsCount', () => {
    expect(results.part_number_reads).toBe('ok');
  });
  it('boto3: GetBucketLocation, GetBucketEncryption, ListObjects v1, quiet DeleteObjects, ❌ operations → 501', () => {
    expect(results.buckets_lists_deletes_and_501s).toBe('ok');
  });
  it('boto3: ACL, object lock, request payer and expected bucket owner headers are ignored; x-amz-tagging → 501', () => {
    expect(results.ignored_headers).toBe('ok');
  });
});
