// Hostile requests against a real local-r2: each test is an attack that used to work.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, codeOf, errorOf, type Harness, harness, signedFetch, signRaw } from './helpers.js';
import { presigner, sdk } from './sdk.js';

const { CreateMultipartUploadCommand, GetObjectCommand, ListPartsCommand, PutBucketCorsCommand, PutObjectCommand, UploadPartCommand } = sdk;
const { getSignedUrl } = presigner;

const NOT_SIGNED = 'There were headers present in the request which were not signed';
/** Signed headers of a Chute-style presigned PUT (the signer's signableHeaders). */
const CHUTE_SIGNABLE = new Set(['content-type', 'content-length', 'content-md5']);
/** Only the length signed (the SDK would otherwise sign a content-type raw sends do not carry). */
const LENGTH_ONLY = new Set(['content-length']);

/** The error message with XML entities decoded (the body escapes ' as &apos;). */
const messageOf = (body: string) =>
  (/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const headersNotSigned = (body: string) => /<HeadersNotSigned>([^<]*)<\/HeadersNotSigned>/.exec(body)?.[1];

/** One request over node:http with any Host header (fetch cannot send a foreign Host). */
function raw(endpoint: string, opts: { method: string; path: string; headers: Record<string, string> }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${endpoint}${opts.path}`, { method: opts.method, headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes `start` (then a `drip` line every 100 ms) to a raw socket; resolves with what came back
 * once the server closes it, or once `until(reply)` holds.
 */
function rawSocket(port: number, start: string | Buffer, drip?: { line: () => string; max: number }, until?: (reply: string) => boolean) {
  return new Promise<{ closedByServer: boolean; reply: string }>((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    s.on('data', (c) => {
      reply += c.toString('latin1');
      if (until?.(reply)) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ closedByServer: sent < (drip?.max ?? Number.POSITIVE_INFINITY), reply });
    });
    s.on('connect', () => {
      s.write(start);
      if (!drip) return;
      timer = setInterval(() => {
        if (sent >= drip.max) {
          clearInterval(timer);
          s.destroy();
          return;
        }
        sent++;
        s.write(drip.line());
      }, 100);
    });
    s.setTimeout(60_000, () => reject(new Error('the server never closed the socket')));
  });
}

/** Every data file under blobs/ (an interrupted write must leave none behind). */
async function blobFiles(dir: string): Promise<string[]> {
  const root = join(dir, 'blobs');
  const out: string[] = [];
  for (const shard of await readdir(root)) out.push(...(await readdir(join(root, shard))));
  return out;
}

let h: Harness;
beforeAll(async () => {
  h = await harness();
  await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'victim/secret.txt', Body: 'other user’s secret' }));
  await h.s3.send(
    new PutBucketCorsCommand({
      Bucket: 'test',
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://app.test'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] }] },
    }),
  );
});
afterAll(() => h.stop());

const text = async (key: string) => (await bytesOf((await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: key }))).Body)).toString();
const absent = (key: string) => codeOf(h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: key })));

describe('x-amz-* headers outside the signature are refused (every operation)', () => {
  it('a presigned PUT with an added x-amz-copy-source does not copy another object: 403 HeadersNotSigned', async () => {
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'attacker/a.txt' }));
    const res = await errorOf(await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-copy-source': 'test/victim/secret.txt' } }));
    expect([res.status, res.code, res.message]).toEqual([403, 'AccessDenied', NOT_SIGNED]);
    expect(headersNotSigned(res.body)).toBe('x-amz-copy-source');
    expect(await absent('attacker/a.txt')).toBe('NoSuchKey');
  });

  it('a presigned UploadPart with an added x-amz-copy-source does not become UploadPartCopy', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'attacker/mp' }));
    const url = await getSignedUrl(h.s3, new UploadPartCommand({ Bucket: 'test', Key: 'attacker/mp', UploadId, PartNumber: 1 }));
    const res = await errorOf(await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-copy-source': 'test/victim/secret.txt' } }));
    expect([res.status, res.code, headersNotSigned(res.body)]).toEqual([403, 'AccessDenied', 'x-amz-copy-source']);
    expect((await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'attacker/mp', UploadId }))).Parts ?? []).toEqual([]);
  });

  it('SSE-C headers added to a presigned part are refused too, all names listed, sorted', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'attacker/ssec' }));
    const url = await getSignedUrl(h.s3, new UploadPartCommand({ Bucket: 'test', Key: 'attacker/ssec', UploadId, PartNumber: 1 }));
    const key = Buffer.alloc(32, 7);
    const res = await errorOf(
      await fetch(url, {
        method: 'PUT',
        body: 'x',
        headers: {
          'x-amz-server-side-encryption-customer-key-md5': 'AAAA',
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key': key.toString('base64'),
        },
      }),
    );
    expect([res.status, res.code]).toEqual([403, 'AccessDenied']);
    expect(headersNotSigned(res.body)).toBe(
      'x-amz-server-side-encryption-customer-algorithm, x-amz-server-side-encryption-customer-key, x-amz-server-side-encryption-customer-key-md5',
    );
  });

  it('header-signed requests too: an x-amz-meta-* added after signing is not stored', async () => {
    const signed = await signRaw(h.r2.endpoint, { method: 'PUT', path: '/test/attacker/hdr', body: 'x' });
    const res = await errorOf(
      await fetch(signed.url, { method: 'PUT', body: signed.body, headers: { ...signed.headers, 'x-amz-meta-evil': '1', 'x-amz-storage-class': 'STANDARD_IA' } }),
    );
    expect([res.status, res.code, res.message]).toEqual([403, 'AccessDenied', NOT_SIGNED]);
    expect(headersNotSigned(res.body)).toBe('x-amz-meta-evil, x-amz-storage-class');
    expect(await absent('attacker/hdr')).toBe('NoSuchKey');
  });

  it('reads, deletes and multipart creation refuse them as well', async () => {
    const extra = { 'x-amz-meta-x': '1' };
    const get = await getSignedUrl(h.s3, new GetObjectCommand({ Bucket: 'test', Key: 'victim/secret.txt' }));
    expect((await errorOf(await fetch(get, { headers: extra }))).code).toBe('AccessDenied');
    const create = await getSignedUrl(h.s3, new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'attacker/c' }));
    expect((await errorOf(await fetch(create, { method: 'POST', headers: extra }))).code).toBe('AccessDenied');
    const del = await signRaw(h.r2.endpoint, { method: 'DELETE', path: '/test/victim/secret.txt' });
    expect((await errorOf(await fetch(del.url, { method: 'DELETE', headers: { ...del.headers, ...extra } }))).code).toBe('AccessDenied');
    expect(await text('victim/secret.txt')).toBe('other user’s secret');
  });
});

describe('presigned writes store no metadata header their signer did not choose', () => {
  const stored = { 'cache-control': 'no-store', 'content-disposition': 'attachment; filename="x.html"', 'content-encoding': 'gzip', 'content-language': 'de', expires: 'Thu, 01 Jan 2037 00:00:00 GMT' };

  it('PutObject: Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires → 403, nothing stored', async () => {
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'attacker/meta', ContentType: 'text/plain', ContentLength: 2 }), {
      signableHeaders: CHUTE_SIGNABLE,
    });
    const res = await errorOf(await fetch(url, { method: 'PUT', body: 'hi', headers: { 'content-type': 'text/plain', ...stored } }));
    expect([res.status, res.code, res.message]).toEqual([403, 'AccessDenied', NOT_SIGNED]);
    expect(headersNotSigned(res.body)).toBe('cache-control, content-disposition, content-encoding, content-language, expires');
    expect(await absent('attacker/meta')).toBe('NoSuchKey');
  });

  it('CreateMultipartUpload likewise; a header the signer did sign is stored', async () => {
    const create = await getSignedUrl(h.s3, new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'attacker/meta-mp' }));
    const res = await errorOf(await fetch(create, { method: 'POST', headers: { 'cache-control': 'no-store' } }));
    expect([res.status, res.code, headersNotSigned(res.body)]).toEqual([403, 'AccessDenied', 'cache-control']);
    const put = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'ok/meta', CacheControl: 'max-age=60' }), {
      signableHeaders: new Set(['cache-control']),
    });
    expect((await fetch(put, { method: 'PUT', body: 'hi', headers: { 'cache-control': 'max-age=60' } })).status).toBe(200);
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'ok/meta' }));
    expect(got.CacheControl).toBe('max-age=60');
  });

  it('header-signed PutObject keeps R2’s behaviour: the SDK’s unsigned Cache-Control is stored', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'ok/sdk-meta', Body: 'hi', CacheControl: 'no-cache', ContentLanguage: 'fr' }));
    const got = await h.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'ok/sdk-meta' }));
    expect([got.CacheControl, got.ContentLanguage]).toEqual(['no-cache', 'fr']);
  });
});

describe('aws-chunked framing only with a signed STREAMING payload mode', () => {
  // 40 bytes on the wire (the signed Content-Length) that aws-chunked would decode to 'hello'.
  const framed = Buffer.from(`5;pad=${'p'.repeat(20)}\r\nhello\r\n0\r\n\r\n`);
  const NEEDS_STREAMING = 'aws-chunked content needs a STREAMING x-amz-content-sha256';

  it('a 40-byte presigned PUT sent as aws-chunked with x-amz-decoded-content-length: 5 stores nothing', async () => {
    expect(framed.length).toBe(40);
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'chunk/a', Body: 'old object' }));
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'chunk/a', ContentLength: 40 }), { signableHeaders: LENGTH_ONLY });
    const res = await errorOf(
      await fetch(url, { method: 'PUT', body: framed, headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' } }),
    );
    expect([res.status, res.code, headersNotSigned(res.body)]).toEqual([403, 'AccessDenied', 'x-amz-decoded-content-length']);
    expect(await text('chunk/a')).toBe('old object');
  });

  it('Content-Encoding: aws-chunked alone on a presigned part → 400 InvalidRequest, no part stored', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'chunk/mp' }));
    const url = await getSignedUrl(h.s3, new UploadPartCommand({ Bucket: 'test', Key: 'chunk/mp', UploadId, PartNumber: 1, ContentLength: 40 }), {
      signableHeaders: LENGTH_ONLY,
    });
    const res = await errorOf(await fetch(url, { method: 'PUT', body: framed, headers: { 'content-encoding': 'aws-chunked' } }));
    expect([res.status, res.code, res.message]).toEqual([400, 'InvalidRequest', NEEDS_STREAMING]);
    expect((await h.s3.send(new ListPartsCommand({ Bucket: 'test', Key: 'chunk/mp', UploadId }))).Parts ?? []).toEqual([]);
  });

  it('even when the signer signed Content-Encoding: aws-chunked, a presigned PUT is not decoded', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'chunk/b', Body: 'old object' }));
    const url = await getSignedUrl(h.s3, new PutObjectCommand({ Bucket: 'test', Key: 'chunk/b', ContentLength: 40, ContentEncoding: 'aws-chunked' }), {
      signableHeaders: new Set(['content-length', 'content-encoding']),
    });
    const res = await errorOf(await fetch(url, { method: 'PUT', body: framed, headers: { 'content-encoding': 'aws-chunked' } }));
    expect([res.status, res.code, res.message]).toEqual([400, 'InvalidRequest', NEEDS_STREAMING]);
    expect(await text('chunk/b')).toBe('old object');
  });

  it('a header-signed UNSIGNED-PAYLOAD PUT with signed aws-chunked headers is refused, the old object intact', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'chunk/c', Body: 'old object' }));
    const res = await errorOf(
      await signedFetch(h.r2.endpoint, {
        method: 'PUT',
        path: '/test/chunk/c',
        body: framed,
        payloadHash: 'UNSIGNED-PAYLOAD',
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' },
      }),
    );
    expect([res.status, res.code, res.message]).toEqual([400, 'InvalidRequest', NEEDS_STREAMING]);
    expect(await text('chunk/c')).toBe('old object');
  });
});

describe('Host names (DNS rebinding)', () => {
  const preflight = (host: string) =>
    raw(h.r2.endpoint, {
      method: 'OPTIONS',
      path: '/test/k',
      headers: { host, origin: 'http://app.test', 'access-control-request-method': 'PUT' },
    });

  it('refuses a foreign Host with 403 AccessDenied, preflights included', async () => {
    const get = await raw(h.r2.endpoint, { method: 'GET', path: '/test/victim/secret.txt', headers: { host: `evil.test:${h.r2.port}` } });
    expect(get.status).toBe(403);
    expect(get.body).toContain('<Code>AccessDenied</Code>');
    expect(messageOf(get.body)).toBe("Host 'evil.test' is not a name this server answers to (allowedHosts)");
    const pre = await preflight('evil.test');
    expect(pre.status).toBe(403);
    expect(messageOf(pre.body)).toBe("Host 'evil.test' is not a name this server answers to (allowedHosts)");
    // 'localhost.evil.test' and 'evil-localhost' are not *.localhost.
    expect((await preflight('localhost.evil.test')).status).toBe(403);
    expect((await preflight('evillocalhost')).status).toBe(403);
  });

  it('answers localhost, *.localhost, 127.0.0.1 and [::1] with any port, case-insensitively', async () => {
    for (const host of [`127.0.0.1:${h.r2.port}`, 'localhost', `LOCALHOST:${h.r2.port}`, `[::1]:${h.r2.port}`])
      expect([host, (await preflight(host)).status]).toEqual([host, 200]);
    // A vhost bucket: OPTIONS /k on test.localhost is the same preflight.
    const vhost = await raw(h.r2.endpoint, {
      method: 'OPTIONS',
      path: '/k',
      headers: { host: `test.localhost:${h.r2.port}`, origin: 'http://app.test', 'access-control-request-method': 'PUT' },
    });
    expect(vhost.status).toBe(200);
  });

  it('refuses a request with no Host at all (HTTP/1.0)', async () => {
    const { reply } = await rawSocket(h.r2.port, 'GET /test/victim/secret.txt HTTP/1.0\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 403/);
    expect(messageOf(reply)).toBe("Host '' is not a name this server answers to (allowedHosts)");
  });

  it('allowedHosts adds names and *.wildcards; the defaults stay', async () => {
    const other = await harness({ allowedHosts: ['*.example.com', 'Dev.Box'] });
    try {
      const status = async (host: string) =>
        (await raw(other.r2.endpoint, { method: 'OPTIONS', path: '/test/k', headers: { host, origin: 'http://x', 'access-control-request-method': 'PUT' } }))
          .body;
      for (const ok of ['a.example.com', 'a.b.example.com:8443', 'dev.box', 'localhost:1'])
        expect([ok, await status(ok)]).toEqual([ok, expect.not.stringContaining('allowedHosts')]);
      for (const bad of ['example.com', 'evil.test', 'notexample.com'])
        expect([bad, await status(bad)]).toEqual([bad, expect.stringContaining('allowedHosts')]);
    } finally {
      await other.stop();
    }
  });
});

describe('slow and silent clients are cut off', () => {
  let t: Harness;
  beforeAll(async () => {
    t = await harness({ headersTimeoutMs: 300, idleTimeoutMs: 300 });
  });
  afterAll(() => t.stop());

  it('headers sent one line at a time (slowloris) hit the headers timeout', async () => {
    let n = 0;
    const { closedByServer, reply } = await rawSocket(t.r2.port, `PUT /test/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n`, {
      line: () => `X-Slow-${n++}: 1\r\n`,
      max: 600,
    });
    expect(closedByServer).toBe(true);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toContain('<Code>RequestTimeout</Code>');
  });

  it('a keep-alive client that stops mid-body is disconnected and nothing is stored', async () => {
    const url = new URL(await getSignedUrl(t.s3, new PutObjectCommand({ Bucket: 'test', Key: 'stalled', ContentLength: 1000 }), { signableHeaders: LENGTH_ONLY }));
    const before = await blobFiles(t.dir);
    // A first, complete request keeps the connection alive; the second stalls after 100 of 1000 bytes.
    const first = `GET /test HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const second = `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${t.r2.port}\r\nContent-Length: 1000\r\n\r\n${'a'.repeat(100)}`;
    const { reply } = await rawSocket(t.r2.port, first + second);
    expect(reply).toMatch(/^HTTP\/1\.1 403 /); // the unsigned GET, answered; the PUT never is
    expect(reply.match(/HTTP\/1\.1 /g)?.length).toBe(1);
    expect(await codeOf(t.s3.send(new GetObjectCommand({ Bucket: 'test', Key: 'stalled' })))).toBe('NoSuchKey');
    expect(await blobFiles(t.dir)).toEqual(before);
  });
});

describe('small XML bodies are bounded', () => {
  it('PutBucketCors, DeleteObjects and CompleteMultipartUpload refuse a declared length over their cap (EntityTooLarge)', async () => {
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'big-xml' }));
    for (const [method, path, query, cap] of [
      ['PUT', '/test', { cors: '' }, 256 * 1024],
      ['POST', '/test', { delete: '' }, 2 * 1024 * 1024],
      ['POST', '/test/big-xml', { uploadId: UploadId as string }, 4 * 1024 * 1024],
    ] as const) {
      // Signed for cap+1 bytes, then only the head is sent: the answer must not wait for the body.
      const signed = await signRaw(h.r2.endpoint, { method, path, query, body: Buffer.alloc(cap + 1), payloadHash: 'UNSIGNED-PAYLOAD' });
      const u = new URL(signed.url);
      const head = Object.entries({ host: u.host, ...signed.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      const { reply } = await rawSocket(h.r2.port, `${method} ${u.pathname}${u.search} HTTP/1.1\r\n${head}\r\n`, undefined, (r) => r.includes('</Error>'));
      expect([path, reply.split('\r\n')[0]]).toEqual([path, 'HTTP/1.1 400 Bad Request']);
      expect(reply).toContain(`<Code>EntityTooLarge</Code><Message>The request body must not exceed ${cap} bytes.</Message>`);
    }
  });
});
