import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CREDENTIALS, startLocalR2 } from '../src/index.js';
import { b64, client, codeOf, errorOf, type Harness, harness, MiB, random, signedFetch, signRaw } from './helpers.js';
import { sdk } from './sdk.js';

const { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, ListObjectsV2Command, GetObjectCommand, PutObjectCommand } = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

const send = (req: Parameters<typeof signedFetch>[1]) => signedFetch(h.r2.endpoint, req).then(errorOf);

describe('bad requests get R2 error codes, never a crash', () => {
  it('uses R2’s compact error XML (no xmlns, no RequestId) for unsigned requests', async () => {
    const res = await fetch(`${h.r2.endpoint}/test/x`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/xml');
    const body = await res.text();
    expect(body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?><Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message><\/Error>$/);
  });

  it('rejects wrong secrets and unknown access keys', async () => {
    const wrong = client(h.r2.endpoint, { credentials: { ...DEFAULT_CREDENTIALS, secretAccessKey: 'nope' } });
    expect(await codeOf(wrong.send(new ListObjectsV2Command({ Bucket: 'test' })))).toBe('SignatureDoesNotMatch');
    const unknown = client(h.r2.endpoint, { credentials: { accessKeyId: 'who', secretAccessKey: 'x' } });
    expect(await codeOf(unknown.send(new ListObjectsV2Command({ Bucket: 'test' })))).toBe('InvalidAccessKeyId');
    const v2 = await errorOf(await fetch(`${h.r2.endpoint}/test`, { headers: { authorization: 'AWS abc:def' } }));
    expect([v2.status, v2.code]).toEqual([401, 'Unauthorized']);
  });

  it('validates bucket names and keys', async () => {
    for (const name of ['ab', 'Bad_Name', 'UPPER', '-dash', `${'a'.repeat(64)}`]) {
      const r = await send({ method: 'PUT', path: `/${name}` });
      expect([r.status, r.code]).toEqual([400, 'InvalidBucketName']);
    }
    expect((await send({ method: 'GET', path: '/missing-bucket', query: { 'list-type': '2' } })).code).toBe('NoSuchBucket');
    const long = await send({ method: 'PUT', path: `/test/${'k'.repeat(1025)}`, body: 'x' });
    expect([long.status, long.code]).toEqual([400, 'InvalidObjectName']);
    const ok = await signedFetch(h.r2.endpoint, { method: 'PUT', path: `/test/${'k'.repeat(1024)}`, body: 'x' });
    expect(ok.status).toBe(200);
    const badPct = await errorOf(await fetch(`${h.r2.endpoint}/test/%ZZ`));
    expect(badPct.status).toBe(400);
  });

  it('answers huge headers with 431 and keeps serving', async () => {
    const res = await fetch(`${h.r2.endpoint}/test/x`, { headers: { 'x-amz-meta-big': 'a'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect((await fetch(`${h.r2.endpoint}/test/x`)).status).toBe(403);
  });

  it('answers a HEAD with huge headers with a 431 that has no body (fuzz: "Data after Connection: close")', async () => {
    // Node's client parses the answer strictly: a body after a HEAD response is a parse error.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.r2.endpoint}/test/x`, { method: 'HEAD', headers: { 'x-amz-meta-big': 'a'.repeat(20_000) } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
  });

  it('sends exactly one response when a body the handler never read turns out malformed', async () => {
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(h.r2.port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => {
        out += d;
      });
      s.on('close', () => resolve(out));
      s.on('error', reject);
      s.write('OPTIONS /test/k HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\nAccess-Control-Request-Method: PUT\r\n');
      s.write('Transfer-Encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n\r\n');
      setTimeout(() => s.end(), 300);
    });
    expect(raw.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
  });

  it('rejects wrong methods and sub-resources R2 lacks', async () => {
    expect(await send({ method: 'PATCH', path: '/test/x' })).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
    expect(await send({ method: 'POST', path: '/test/x' })).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
    expect(await send({ method: 'DELETE', path: '/' })).toMatchObject({ status: 405, code: 'MethodNotAllowed' });
    expect(await send({ method: 'GET', path: '/test/x', query: { acl: '' } })).toMatchObject({ status: 501, code: 'NotImplemented' });
    expect(await send({ method: 'PUT', path: '/test', query: { versioning: '' } })).toMatchObject({ status: 501, code: 'NotImplemented' });
    const copyPart = { method: 'PUT', path: '/test/copy', query: { partNumber: '1', uploadId: 'u' }, headers: { 'x-amz-copy-source': '/test/x' } };
    expect(await send(copyPart)).toMatchObject({ status: 404, code: 'NoSuchUpload' });
    const ssec = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' };
    // SSE-C without its key is a client mistake (400), not a crash.
    expect(await send({ method: 'PUT', path: '/test/ssec', headers: ssec, body: 'x' })).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });

  it('verifies Content-MD5, x-amz-checksum-* and x-amz-content-sha256 on PutObject', async () => {
    const body = random(2000);
    const put = (headers: Record<string, string>, payloadHash?: string) =>
      send({ method: 'PUT', path: '/test/digest', body, headers, ...(payloadHash ? { payloadHash } : {}) });
    expect(await put({ 'content-md5': b64('md5', random(5)) })).toMatchObject({ status: 400, code: 'BadDigest' });
    expect(await put({ 'content-md5': 'not-md5' })).toMatchObject({ status: 400, code: 'InvalidDigest' });
    expect(await put({ 'x-amz-checksum-crc32': 'AAAA' })).toMatchObject({ status: 400, code: 'InvalidDigest' });
    expect(await put({ 'x-amz-checksum-sha1': b64('sha1', random(3)) })).toMatchObject({ status: 400, code: 'BadDigest' });
    expect(await put({ 'x-amz-checksum-sha1': b64('sha1', body), 'x-amz-checksum-sha256': b64('sha256', body) })).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
      message: 'You can only specify one non-default checksum at a time.',
    });
    expect(await put({}, 'a'.repeat(64))).toMatchObject({ status: 400, code: 'XAmzContentSHA256Mismatch' });
    expect(await put({ 'x-amz-meta-big': 'v'.repeat(8200) })).toMatchObject({ status: 400, code: 'MetadataTooLarge' });
    // Nothing was stored by any of the rejected writes.
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'digest' })))).toBe('NoSuchKey');
    const good = await signedFetch(h.r2.endpoint, {
      method: 'PUT',
      path: '/test/digest',
      body,
      headers: { 'content-md5': b64('md5', body) },
    });
    expect(good.status).toBe(200);
  });

  it('requires a Content-Length on PutObject (411)', async () => {
    const signed = await signRaw(h.r2.endpoint, {
      method: 'PUT',
      path: '/test/chunked',
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'transfer-encoding': 'chunked' },
    });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(signed.url, { method: 'PUT', headers: signed.headers }, (r) => {
        let body = '';
        r.on('data', (c) => {
          body += c;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('abc');
    });
    expect(res.status).toBe(411);
    expect(res.body).toContain('<Code>MissingContentLength</Code>');
  });

  it('rejects malformed, unknown and invalid XML configuration', async () => {
    const cors = (xml: string) => send({ method: 'PUT', path: '/test', query: { cors: '' }, body: xml });
    expect(await cors('<CORSConfiguration><CORSRule>')).toMatchObject({ status: 400, code: 'MalformedXML' });
    expect(await cors('not xml at all')).toMatchObject({ status: 400, code: 'MalformedXML' });
    expect(
      await cors('<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus>1</Bogus></CORSRule></CORSConfiguration>'),
    ).toMatchObject({ code: 'MalformedXML' });
    expect(
      await cors('<CORSConfiguration><CORSRule><AllowedOrigin>http://localhost:*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'),
    ).toMatchObject({ code: 'MalformedXML' });
    expect(
      await cors('<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>'),
    ).toMatchObject({ code: 'MalformedXML' });
    expect(await cors(`<CORSConfiguration>${' '.repeat(300_000)}</CORSConfiguration>`)).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    const lc = (xml: string) => send({ method: 'PUT', path: '/test', query: { lifecycle: '' }, body: xml });
    expect(await lc('<LifecycleConfiguration><Rule><Status>On</Status></Rule></LifecycleConfiguration>')).toMatchObject({ code: 'MalformedXML' });
    expect(
      await lc('<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Filter><Tag><Key>a</Key></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>'),
    ).toMatchObject({ status: 501, code: 'NotImplemented' });
  });

  it('rejects bad list parameters', async () => {
    expect(await send({ method: 'GET', path: '/test', query: { 'list-type': '2', 'max-keys': '-1' } })).toMatchObject({ code: 'InvalidArgument' });
    expect(await send({ method: 'GET', path: '/test', query: { 'list-type': '2', 'encoding-type': 'base64' } })).toMatchObject({ code: 'InvalidArgument' });
    expect(await send({ method: 'GET', path: '/test', query: { 'list-type': '2', 'continuation-token': '!!' } })).toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('multipart rules are checked at Complete with R2’s codes', () => {
  async function upload(sizes: number[]) {
    const key = `rules/${Math.random()}`;
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: key }));
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (const [i, n] of sizes.entries()) {
      const r = await h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: key, UploadId, PartNumber: i + 1, Body: random(n) }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag as string });
    }
    const complete = (p = parts) =>
      h.s3.send(new CompleteMultipartUploadCommand({ Bucket: 'test', Key: key, UploadId, MultipartUpload: { Parts: p } }));
    return { key, UploadId, parts, complete };
  }
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return { code: (e as { name: string }).name, message: (e as Error).message };
    }
    throw new Error('expected failure');
  };

  it('non-last part below 5 MiB → EntityTooSmall', async () => {
    const u = await upload([1000, 1000]);
    expect((await failure(u.complete())).code).toBe('EntityTooSmall');
  });

  it('unequal non-trailing parts, or a larger last part → InvalidPart with R2’s message', async () => {
    const a = await upload([5 * MiB, 5 * MiB + 1, 10]);
    expect(await failure(a.complete())).toEqual({ code: 'InvalidPart', message: 'All non-trailing parts must have the same length.' });
    const b = await upload([5 * MiB, 5 * MiB + 1]);
    expect(await failure(b.complete())).toEqual({ code: 'InvalidPart', message: 'All non-trailing parts must have the same length.' });
    // A single part of any size, and a smaller last part, are fine.
    expect((await (await upload([10])).complete()).ETag).toMatch(/-1"$/);
  });

  it('missing parts or wrong ETags → InvalidPart; unknown uploads → NoSuchUpload; bad part numbers → InvalidArgument', async () => {
    const u = await upload([100]);
    expect((await failure(u.complete([{ PartNumber: 2, ETag: u.parts[0]?.ETag as string }]))).code).toBe('InvalidPart');
    expect((await failure(u.complete([{ PartNumber: 1, ETag: '"0123"' }]))).code).toBe('InvalidPart');
    expect((await failure(u.complete([]))).code).toBe('MalformedXML');
    const none = h.s3.send(new UploadPartCommand({ Bucket: 'test', Key: u.key, UploadId: 'nope', PartNumber: 1, Body: 'x' }));
    expect(await codeOf(none)).toBe('NoSuchUpload');
    for (const n of ['0', '10001', 'x']) {
      const r = await send({ method: 'PUT', path: `/test/${u.key}`, query: { partNumber: n, uploadId: u.UploadId as string }, body: 'x' });
      expect([r.status, r.code]).toEqual([400, 'InvalidArgument']);
    }
    // The upload survived all of that and still completes.
    expect((await u.complete()).ETag).toMatch(/-1"$/);
  });

  it('honours If-None-Match: * on CreateMultipartUpload (412)', async () => {
    await signedFetch(h.r2.endpoint, { method: 'PUT', path: '/test/exists', body: 'x' });
    const r = await send({ method: 'POST', path: '/test/exists', query: { uploads: '' }, headers: { 'if-none-match': '*' } });
    expect([r.status, r.code]).toEqual([412, 'PreconditionFailed']);
  });
});

describe('start-up guards', () => {
  it('refuses a second server on the same data dir, and a port already taken', async () => {
    await expect(startLocalR2({ dataDir: h.dir })).rejects.toThrow(/in use/);
    const other = await mkdtemp(join(tmpdir(), 'local-r2-port-'));
    await expect(startLocalR2({ dataDir: other, port: h.r2.port })).rejects.toThrow(/EADDRINUSE/);
    // The failed start released its lock: a later start on that dir works.
    const ok = await startLocalR2({ dataDir: other });
    await ok.close();
    await rm(other, { recursive: true, force: true });
  });
});

describe('aws-chunked bodies over HTTP', () => {
  const frame = (data: string, trailer: string) => `${data.length.toString(16)}\r\n${data}\r\n0\r\n${trailer}\r\n\r\n`;
  const put = (key: string, data: string, trailer: string) =>
    signedFetch(h.r2.endpoint, {
      method: 'PUT',
      path: `/test/${key}`,
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      body: frame(data, trailer),
    });

  it('stores the decoded bytes when the trailing CRC32 matches, BadDigest when it does not', async () => {
    const ok = await put('trailer-ok', 'hello world', 'x-amz-checksum-crc32:DUoRhQ==');
    expect(ok.status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'trailer-ok' }));
    expect(await (got.Body as { transformToString(): Promise<string> }).transformToString()).toBe('hello world');
    const bad = await errorOf(await put('trailer-bad', 'hello world', 'x-amz-checksum-crc32:AAAAAA=='));
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest']);
    const missing = await errorOf(await put('trailer-missing', 'hello world', ''));
    expect(missing.status).toBe(400);
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'trailer-bad' })))).toBe('NoSuchKey');
  });

  it('rejects forged chunk signatures and broken framing, and keeps serving', async () => {
    const chunked = (payloadHash: string, body: string, decoded: number) =>
      signedFetch(h.r2.endpoint, {
        method: 'PUT',
        path: '/test/chunked-bad',
        payloadHash,
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(decoded) },
        body,
      }).then(errorOf);
    const forged = `3;chunk-signature=${'0'.repeat(64)}\r\nabc\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`;
    expect(await chunked('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', forged, 3)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await chunked('STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'zz\r\nabc\r\n', 3)).toMatchObject({ status: 400, code: 'IncompleteBody' });
    expect(await chunked('STREAMING-UNSIGNED-PAYLOAD-TRAILER', '3\r\nabc\r\n', 3)).toMatchObject({ status: 400, code: 'IncompleteBody' });
    expect(await chunked('STREAMING-UNSIGNED-PAYLOAD-TRAILER', '5\r\nabcde\r\n0\r\n\r\n', 3)).toMatchObject({ status: 400 });
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'chunked-bad' })))).toBe('NoSuchKey');
  });

  it('survives a broken aws-chunked body that a refused request never reads (fuzz: the server used to die)', async () => {
    // The handler refuses before reading (declared size over the XML cap), then the unread
    // decoder meets a malformed chunk header: its error must not escape as an unhandled event.
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'before-broken-chunks', Body: 'still here' }));
    const res = await signedFetch(h.r2.endpoint, {
      method: 'PUT',
      path: '/test',
      query: { lifecycle: '' },
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(64 * 1024 * 1024) },
      body: 'not a chunk header at all\r\n'.repeat(4),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 100));
    const still = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'before-broken-chunks' }));
    expect(await (still.Body as { transformToString(): Promise<string> }).transformToString()).toBe('still here');
  });
});
