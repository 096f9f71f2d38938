import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, codeOf, type Harness, harness, md5hex, random, signRaw } from './helpers.js';
import { sdk } from './sdk.js';

const {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

describe.each([
  ['WHEN_REQUIRED client', () => h.s3],
  ['SDK-default client (aws-chunked + CRC32 trailer)', () => h.s3Default],
])('objects with %s', (name, s3) => {
  const bucket = name.startsWith('WHEN') ? 'objects-a' : 'objects-b';

  it('creates, heads, lists and locates buckets', async () => {
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
    expect(await codeOf(s3().send(new CreateBucketCommand({ Bucket: bucket })))).toBe('BucketAlreadyOwnedByYou');
    const head = await s3().send(new HeadBucketCommand({ Bucket: bucket }));
    expect(head.BucketRegion).toBe('auto');
    const list = await s3().send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain(bucket);
    expect((await s3().send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint).toBe('auto');
  });

  it('round-trips bytes, system and user metadata; ETag is the MD5', async () => {
    const body = random(300_000);
    const put = await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dir/file one+two.bin',
        Body: body,
        ContentType: 'application/x-test',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="x.bin"',
        ContentLanguage: 'en',
        Metadata: { owner: 'alice', note: 'héllo' },
      }),
    );
    expect(put.ETag).toBe(`"${md5hex(body)}"`);
    const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/file one+two.bin' }));
    expect(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(body)).toBe(true);
    expect(got.ContentType).toBe('application/x-test');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.ContentDisposition).toBe('attachment; filename="x.bin"');
    expect(got.ContentLanguage).toBe('en');
    expect(got.Metadata).toEqual({ owner: 'alice', note: 'héllo' });
    expect(got.ContentLength).toBe(body.length);
  });

  it('serves ranges and HEAD without a body', async () => {
    const body = random(10_000);
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: body }));
    const part = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=100-199' }));
    expect(part.ContentRange).toBe('bytes 100-199/10000');
    const bytes = Buffer.from(await (part.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(bytes.equals(body.subarray(100, 200))).toBe(true);
    const suffix = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=-10' }));
    expect(Buffer.from(await (suffix.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(body.subarray(-10))).toBe(true);
    expect(await codeOf(s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=20000-' })))).toBe('InvalidRange');
    // Range has no effect on HeadObject (R2).
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=0-9' }));
    expect(head.ContentLength).toBe(10_000);
    expect(head.ETag).toBe(`"${md5hex(body)}"`);
  });

  it('verifies and returns x-amz-checksum-* (Head/Get with checksum mode)', async () => {
    const body = random(50_000);
    const put = await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'sum', Body: body, ChecksumSHA256: b64('sha256', body) }));
    expect(put.ChecksumSHA256).toBe(b64('sha256', body));
    const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'sum', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(b64('sha256', body));
    const bad = s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'sum', Body: body, ChecksumSHA256: b64('sha256', random(10)) }));
    expect(await codeOf(bad)).toBe('BadDigest');
    // The object that was there is untouched by the rejected write.
    const again = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'sum' }));
    expect(again.ETag).toBe(`"${md5hex(body)}"`);
  });

  it('honours If-None-Match: * and If-Match on PutObject with 412', async () => {
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'v1' }));
    expect(await codeOf(s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'v2', IfNoneMatch: '*' })))).toBe('PreconditionFailed');
    expect(await codeOf(s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'v2', IfMatch: '"nope"' })))).toBe('PreconditionFailed');
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'v2', IfMatch: `"${md5hex(Buffer.from('v1'))}"` }));
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'new-one', Body: 'x', IfNoneMatch: '*' }));
  });

  it('answers conditional reads with 304 and 412', async () => {
    const put = await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-read', Body: 'x' }));
    const get = (p: Record<string, unknown>) => s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-read', ...p }));
    const status = (p: Promise<unknown>) => p.then(() => 200, (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode);
    expect(await status(get({ IfNoneMatch: put.ETag }))).toBe(304);
    expect(await codeOf(get({ IfMatch: '"other"' }))).toBe('PreconditionFailed');
    expect(await status(get({ IfModifiedSince: new Date(Date.now() + 60_000) }))).toBe(304);
    expect(await codeOf(get({ IfUnmodifiedSince: new Date(Date.now() - 60_000) }))).toBe('PreconditionFailed');
    expect((await get({ IfMatch: put.ETag, IfNoneMatch: '"other"' })).ETag).toBe(put.ETag);
  });

  it('copies objects (hard-linked data, metadata COPY or REPLACE, source conditions)', async () => {
    const body = random(20_000);
    const put = await s3().send(
      new PutObjectCommand({ Bucket: bucket, Key: 'copy/src', Body: body, ContentType: 'text/x-src', Metadata: { m: '1' } }),
    );
    const copied = await s3().send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst', CopySource: `${bucket}/copy/src` }));
    expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
    const replaced = await s3().send(
      new sdk.CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy/dst2',
        CopySource: `/${bucket}/copy/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-new',
        Metadata: { n: '2' },
      }),
    );
    expect(replaced.CopyObjectResult?.ETag).toBe(put.ETag);
    // Deleting the source leaves the copies intact.
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy/src' }));
    const a = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/dst' }));
    expect(md5hex(Buffer.from(await (a.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()))).toBe(md5hex(body));
    expect([a.ContentType, a.Metadata]).toEqual(['text/x-src', { m: '1' }]);
    const b = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/dst2' }));
    expect([b.ContentType, b.Metadata]).toEqual(['text/x-new', { n: '2' }]);
    const self = s3().send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst', CopySource: `${bucket}/copy/dst` }));
    expect(await codeOf(self)).toBe('InvalidRequest');
    const cond = s3().send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: 'copy/x', CopySource: `${bucket}/copy/dst`, CopySourceIfMatch: '"nope"' }));
    expect(await codeOf(cond)).toBe('PreconditionFailed');
    expect(await codeOf(s3().send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: 'copy/y', CopySource: `${bucket}/copy/missing` })))).toBe('NoSuchKey');
  });

  it('stores keys that look like paths as plain keys', async () => {
    for (const key of ['../../etc/x', './a/../b', 'a//b', '%2e%2e/y', 'ünï cødé/€', ' spaced ']) {
      await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await (got.Body as { transformToString(): Promise<string> }).transformToString()).toBe(key);
    }
    const list = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '../' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['../../etc/x']);
  });

  it('deletes objects (one and many); missing keys are not an error', async () => {
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'del/1', Body: '1' }));
    await s3().send(new PutObjectCommand({ Bucket: bucket, Key: 'del/2', Body: '2' }));
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/1' }));
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/1' }));
    expect(await codeOf(s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'del/1' })))).toBe('NotFound');
    expect(await codeOf(s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'del/1' })))).toBe('NoSuchKey');
    const res = await s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }] } }));
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(['del/2', 'del/3']);
  });

  it('refuses to delete a non-empty bucket, then deletes an empty one', async () => {
    await s3().send(new CreateBucketCommand({ Bucket: `${bucket}-tmp` }));
    await s3().send(new PutObjectCommand({ Bucket: `${bucket}-tmp`, Key: 'k', Body: 'x' }));
    expect(await codeOf(s3().send(new DeleteBucketCommand({ Bucket: `${bucket}-tmp` })))).toBe('BucketNotEmpty');
    await s3().send(new DeleteObjectCommand({ Bucket: `${bucket}-tmp`, Key: 'k' }));
    await s3().send(new DeleteBucketCommand({ Bucket: `${bucket}-tmp` }));
    expect(await codeOf(s3().send(new HeadBucketCommand({ Bucket: `${bucket}-tmp` })))).toBe('NotFound');
    expect(await codeOf(s3().send(new ListObjectsV2Command({ Bucket: `${bucket}-tmp` })))).toBe('NoSuchBucket');
  });
});

describe('ListObjectsV2 parameters', () => {
  const bucket = 'listing';
  const keys = ['a/1', 'a/2', 'a/b/3', 'a/b/4', 'b/5', 'c', 'c/6', 'd e/7', 'z'];
  beforeAll(async () => {
    await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of keys) await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  });
  const list = (p: Partial<ConstructorParameters<typeof ListObjectsV2Command>[0]>) =>
    h.s3.send(new ListObjectsV2Command({ Bucket: bucket, ...p }));

  it('lists everything in byte order', async () => {
    const r = await list({});
    expect(r.Contents?.map((c) => c.Key)).toEqual([...keys].sort());
    expect(r.KeyCount).toBe(keys.length);
    expect(r.IsTruncated).toBe(false);
  });

  it('rolls up common prefixes with a delimiter and a prefix', async () => {
    const top = await list({ Delimiter: '/' });
    expect(top.Contents?.map((c) => c.Key)).toEqual(['c', 'z']);
    expect(top.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['a/', 'b/', 'c/', 'd e/']);
    const inA = await list({ Delimiter: '/', Prefix: 'a/' });
    expect(inA.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
    expect(inA.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['a/b/']);
  });

  it('paginates with max-keys and continuation tokens (prefixes count as keys)', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await list({ Delimiter: '/', MaxKeys: 2, ...(token ? { ContinuationToken: token } : {}) });
      seen.push(...(r.Contents ?? []).map((c) => c.Key as string), ...(r.CommonPrefixes ?? []).map((c) => c.Prefix as string));
      token = r.NextContinuationToken;
      expect(r.KeyCount).toBeLessThanOrEqual(2);
      pages++;
    } while (token);
    expect(seen.sort()).toEqual(['a/', 'b/', 'c', 'c/', 'd e/', 'z']);
    expect(pages).toBe(3);
  });

  it('rolls up with multi-character delimiters and non-ASCII prefixes, and pages through them', async () => {
    await h.s3.send(new CreateBucketCommand({ Bucket: 'listing-2' }));
    const ks = ['ü::1', 'ü::2', 'ü::x::3', 'ü::y::4', 'ü😀', 'ü😀::5', 'v'];
    for (const key of ks) await h.s3.send(new PutObjectCommand({ Bucket: 'listing-2', Key: key, Body: key }));
    const all = await h.s3.send(new ListObjectsV2Command({ Bucket: 'listing-2', Prefix: 'ü::', Delimiter: '::' }));
    expect(all.Contents?.map((c) => c.Key)).toEqual(['ü::1', 'ü::2']);
    expect(all.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['ü::x::', 'ü::y::']);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await h.s3.send(new ListObjectsV2Command({ Bucket: 'listing-2', Delimiter: '::', MaxKeys: 1, ...(token ? { ContinuationToken: token } : {}) }));
      seen.push(...(r.Contents ?? []).map((c) => c.Key as string), ...(r.CommonPrefixes ?? []).map((c) => c.Prefix as string));
      token = r.NextContinuationToken;
    } while (token);
    // UTF-8 byte order: 'v' (0x76) sorts before 'ü' (0xC3 0xBC).
    expect(seen).toEqual(['v', 'ü::', 'ü😀', 'ü😀::']);
  });

  it('serves ListObjects (v1) with marker and NextMarker', async () => {
    const page = await h.s3.send(new sdk.ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 3 }));
    expect([...(page.Contents ?? []).map((c) => c.Key), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix)].sort()).toEqual(['a/', 'b/', 'c']);
    expect(page.IsTruncated).toBe(true);
    expect(page.NextMarker).toBe('c');
    const rest = await h.s3.send(new sdk.ListObjectsCommand({ Bucket: bucket, Delimiter: '/', Marker: page.NextMarker }));
    expect([...(rest.Contents ?? []).map((c) => c.Key), ...(rest.CommonPrefixes ?? []).map((p) => p.Prefix)].sort()).toEqual(['c/', 'd e/', 'z']);
  });

  it('supports start-after, max-keys=0, fetch-owner and encoding-type=url', async () => {
    const after = await list({ StartAfter: 'b/5' });
    expect(after.Contents?.map((c) => c.Key)).toEqual(['c', 'c/6', 'd e/7', 'z']);
    const none = await list({ MaxKeys: 0 });
    expect(none.Contents ?? []).toEqual([]);
    const owner = await list({ FetchOwner: true, MaxKeys: 1 });
    expect(owner.Contents?.[0]?.Owner?.ID).toBe('local-r2');
    const enc = await list({ Prefix: 'd ', EncodingType: 'url' });
    // The JS SDK hands url-encoded keys back as sent.
    expect(enc.Contents?.map((c) => c.Key)).toEqual(['d%20e/7']);
    expect(enc.Prefix).toBe('d%20');
  });
});

describe('virtual-hosted-style addressing on *.localhost', () => {
  it('serves <bucket>.localhost/<key> like /<bucket>/<key>', async () => {
    const { request } = await import('node:http');
    const host = `test.localhost:${h.r2.port}`;
    const call = async (method: string, path: string, body?: string) => {
      const signed = await signRaw(h.r2.endpoint, { method, path, host, ...(body !== undefined ? { body } : {}) });
      return new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(signed.url, { method, headers: signed.headers }, (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    };
    expect((await call('PUT', '/vhost/key.txt', 'via vhost')).status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'vhost/key.txt' }));
    expect(await (got.Body as { transformToString(): Promise<string> }).transformToString()).toBe('via vhost');
    const list = await call('GET', '/', undefined);
    expect(list.text).toContain('<Key>vhost/key.txt</Key>');
  });
});
