import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, errorOf, type Harness, harness, md5hex, random } from './helpers.js';
import { presigner, sdk } from './sdk.js';

const { GetObjectCommand, PutObjectCommand, PutBucketCorsCommand, UploadPartCommand, CreateMultipartUploadCommand } = sdk;
const { getSignedUrl } = presigner;

let h: Harness;
beforeAll(async () => {
  h = await harness();
  await h.s3.send(
    new PutBucketCorsCommand({
      Bucket: 'test',
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: ['http://app.test'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
      },
    }),
  );
});
afterAll(() => h.stop());

describe('presigned URLs sent with plain fetch', () => {
  it('PUT then GET an object', async () => {
    const body = random(70_000);
    const put = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/a b.bin' }), { expiresIn: 300 });
    const res = await fetch(put, { method: 'PUT', body });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${md5hex(body)}"`);
    const get = await getSignedUrl(h.s3, new GetObjectCommand({ Bucket: 'test', Key: 'pre/a b.bin' }), { expiresIn: 300 });
    const got = await fetch(get);
    expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
  });

  it('enforces a signed Content-MD5: right bytes pass, other bytes are BadDigest, no header is SignatureDoesNotMatch', async () => {
    const body = random(1000);
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/md5', ContentMD5: b64('md5', body) }));
    expect((await fetch(url, { method: 'PUT', body, headers: { 'content-md5': b64('md5', body) } })).status).toBe(200);
    const bad = await errorOf(await fetch(url, { method: 'PUT', body: random(1000), headers: { 'content-md5': b64('md5', body) } }));
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest']);
    const unsigned = await errorOf(await fetch(url, { method: 'PUT', body }));
    expect([unsigned.status, unsigned.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('enforces a signed x-amz-checksum-sha256 on UploadPart (unhoistable header)', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'pre/part', ChecksumAlgorithm: 'SHA256' }));
    const body = random(4096);
    const sum = b64('sha256', body);
    const url = await getSignedUrl(
      h.s3,
      new UploadPartCommand({ Bucket: 'test', Key: 'pre/part', UploadId, PartNumber: 1, ChecksumSHA256: sum }),
      { unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
    );
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-amz-checksum-sha256');
    const ok = await fetch(url, { method: 'PUT', body, headers: { 'x-amz-checksum-sha256': sum } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-amz-checksum-sha256')).toBe(sum);
    const bad = await errorOf(await fetch(url, { method: 'PUT', body: random(4096), headers: { 'x-amz-checksum-sha256': sum } }));
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest']);
  });

  it('enforces a signed Content-Length', async () => {
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/len', ContentLength: 100 }), {
      signableHeaders: new Set(['content-length']),
    });
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect((await fetch(url, { method: 'PUT', body: random(100) })).status).toBe(200);
    const more = await errorOf(await fetch(url, { method: 'PUT', body: random(101) }));
    expect([more.status, more.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('rejects the empty-body CRC32 that SDK-default presigning bakes into the query (BadDigest)', async () => {
    const url = await getSignedUrl(h.s3Default, new PutObjectCommand({ Bucket: 'test', Key: 'pre/crc' }));
    expect(new URL(url).searchParams.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
    const res = await errorOf(await fetch(url, { method: 'PUT', body: 'not empty' }));
    expect([res.status, res.code]).toEqual([400, 'BadDigest']);
  });

  it('answers an expired URL with 403 ExpiredRequest in R2’s exact XML and without CORS headers', async () => {
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/expired' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3_600_000),
    });
    const res = await fetch(url, { method: 'PUT', body: 'x', headers: { origin: 'http://app.test' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const err = await errorOf(res);
    expect(err.status).toBe(403);
    expect(err.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredRequest</Code><Message>Request has expired</Message></Error>',
    );
    // A valid request from the same origin does get CORS headers.
    const fresh = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/expired' }));
    const ok = await fetch(fresh, { method: 'PUT', body: 'x', headers: { origin: 'http://app.test' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(ok.headers.get('access-control-expose-headers')).toBe('ETag');
  });

  it('rejects tampered URLs with SignatureDoesNotMatch and over-long expiry with InvalidArgument', async () => {
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'pre/t1' }), { expiresIn: 60 });
    const otherKey = url.replace('/pre/t1?', '/pre/t2?');
    expect((await errorOf(await fetch(otherKey, { method: 'PUT', body: 'x' }))).code).toBe('SignatureDoesNotMatch');
    const longer = url.replace('X-Amz-Expires=60', 'X-Amz-Expires=600');
    expect((await errorOf(await fetch(longer, { method: 'PUT', body: 'x' }))).code).toBe('SignatureDoesNotMatch');
    const week = url.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801');
    const err = await errorOf(await fetch(week, { method: 'PUT', body: 'x' }));
    expect([err.status, err.code]).toEqual([400, 'InvalidArgument']);
    expect(err.message).toMatch(/less than 604800 seconds/);
    const wrongMethod = await errorOf(await fetch(url, { method: 'DELETE' }));
    expect(wrongMethod.code).toBe('SignatureDoesNotMatch');
  });

  it('runs a whole multipart upload on presigned URLs (POST create/complete, PUT parts, GET list, DELETE abort)', async () => {
    const create = await getSignedUrl(h.s3, new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'pre/mp' }));
    const created = await (await fetch(create, { method: 'POST' })).text();
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created)?.[1] as string;
    const part = random(1000);
    const putPart = await getSignedUrl(h.s3, new UploadPartCommand({ Bucket: 'test', Key: 'pre/mp', UploadId: uploadId, PartNumber: 1 }));
    const etag = (await fetch(putPart, { method: 'PUT', body: part })).headers.get('etag');
    expect(etag).toBe(`"${md5hex(part)}"`);
    const list = await getSignedUrl(h.s3, new sdk.ListPartsCommand({ Bucket: 'test', Key: 'pre/mp', UploadId: uploadId }));
    expect(await (await fetch(list)).text()).toContain(`<ETag>&quot;${md5hex(part)}&quot;</ETag>`);
    const complete = await getSignedUrl(h.s3, new sdk.CompleteMultipartUploadCommand({ Bucket: 'test', Key: 'pre/mp', UploadId: uploadId }));
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
    const done = await fetch(complete, { method: 'POST', body: xml });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('-1&quot;</ETag>');
    const second = await (await fetch(create, { method: 'POST' })).text();
    const id2 = /<UploadId>([^<]+)<\/UploadId>/.exec(second)?.[1] as string;
    const abort = await getSignedUrl(h.s3, new sdk.AbortMultipartUploadCommand({ Bucket: 'test', Key: 'pre/mp', UploadId: id2 }));
    expect((await fetch(abort, { method: 'DELETE' })).status).toBe(204);
  });

  it('accepts region us-east-1 and empty as aliases of auto, and refuses others', async () => {
    for (const region of ['us-east-1', 'auto']) {
      const c = new sdk.S3Client({ endpoint: h.r2.endpoint, region, forcePathStyle: true, credentials: h.r2.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
      const url = await getSignedUrl(c, new PutObjectCommand({ Bucket: 'test', Key: `pre/${region}` }));
      expect((await fetch(url, { method: 'PUT', body: region })).status).toBe(200);
    }
    const eu = new sdk.S3Client({ endpoint: h.r2.endpoint, region: 'eu-west-1', forcePathStyle: true, credentials: h.r2.credentials });
    const url = await getSignedUrl(eu, new PutObjectCommand({ Bucket: 'test', Key: 'pre/eu' }));
    const err = await errorOf(await fetch(url, { method: 'PUT', body: 'x' }));
    expect([err.status, err.code]).toEqual([400, 'AuthorizationHeaderMalformed']);
  });
});
