// Holes 1, 6 and 10: the store obeys only what was signed — no unsigned x-amz-* header, no
// unsigned stored metadata, no aws-chunked body on a URL signed for raw bytes.
import { describe } from 'vitest';
import type { Env } from '../lib/env.js';
import { bytes, createMultipart, createSingle, md5, send, signPart } from '../lib/flows.js';
import { api } from '../lib/http.js';
import { BUCKET, bearer } from '../lib/servers.js';
import { attack, exists, refusedWith, stored } from '../lib/suite.js';

export function storeHeaderCases(env: () => Env): void {
  describe('1. unsigned x-amz-* headers on presigned URLs', () => {
    const victim = async () => {
      const secret = Buffer.from('bob-only: the launch codes');
      const bob = await createSingle(env().main.url, 'bob', secret);
      const put = await send(bob.put, secret);
      if (put.status !== 200) throw new Error(`bob's upload failed: ${put.status} ${put.text}`);
      return { key: bob.key, secret };
    };

    attack('1', "PUT URL for mallory's own key + x-amz-copy-source naming bob's object", async () => {
      const { key, secret } = await victim();
      const own = await createSingle(env().main.url, 'mallory', Buffer.alloc(0));
      const a = await send(own.put, '', { 'x-amz-copy-source': `/${BUCKET}/${encodeURIComponent(key)}` });
      const copied = await stored(env().store.s3, BUCKET, own.key);
      const bobIntact = (await stored(env().store.s3, BUCKET, key))?.equals(secret) === true;
      return { ...refusedWith(a, 403, 'AccessDenied'), refused: a.status === 403 && copied === null && bobIntact };
    });

    attack('1', "UploadPart URL + x-amz-copy-source (UploadPartCopy of bob's object)", async () => {
      const { key } = await victim();
      const up = await createMultipart(env().main.url, 'mallory', 6 * 1024 * 1024);
      // Part 2 of a 6 MiB upload in 5 MiB parts is 1 MiB: send exactly what was signed, so only the
      // unsigned copy source can be the reason for a refusal.
      const body = Buffer.alloc(1024 * 1024);
      const part = await signPart(env().main.url, 'mallory', up.uploadId, up.token, 2, body);
      const a = await send(part, body, { 'x-amz-copy-source': `/${BUCKET}/${encodeURIComponent(key)}` });
      await api(env().main.url, 'DELETE', `/api/uploads/${encodeURIComponent(up.uploadId)}`, { ...bearer('mallory'), 'chute-upload-token': up.token });
      return refusedWith(a, 403, 'AccessDenied');
    });

    const extras: [string, Record<string, string>][] = [
      ['x-amz-meta-* the signer never chose', { 'x-amz-meta-owner': 'mallory' }],
      [
        "SSE-C headers (the object would be encrypted with the attacker's key)",
        {
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key': Buffer.alloc(32, 7).toString('base64'),
          'x-amz-server-side-encryption-customer-key-md5': md5(Buffer.alloc(32, 7)),
        },
      ],
      ['x-amz-storage-class', { 'x-amz-storage-class': 'STANDARD_IA' }],
      ['x-amz-website-redirect-location', { 'x-amz-website-redirect-location': 'https://evil.example/' }],
      ['x-amz-acl: public-read', { 'x-amz-acl': 'public-read' }],
      ['x-amz-tagging', { 'x-amz-tagging': 'a=b' }],
      ['x-amz-checksum-crc32 added to a URL signed with Content-MD5', { 'x-amz-checksum-crc32': 'AAAAAA==' }],
    ];
    for (const [what, headers] of extras) {
      attack('1', `single PUT URL + unsigned ${what}`, async () => {
        const body = bytes(100);
        const own = await createSingle(env().main.url, 'mallory', body);
        const a = await send(own.put, body, headers);
        const kept = await exists(env().store.s3, BUCKET, own.key);
        // Two checksums in one request is refused for that reason first (400), also a refusal.
        const ok = what.startsWith('x-amz-checksum') ? a.status === 400 || a.status === 403 : a.status === 403 && a.code === 'AccessDenied';
        return { ...refusedWith(a, 403, 'AccessDenied'), refused: ok && !kept };
      });
    }

    attack('1', 'the signer is asked to sign a copy source (extra field in the create body)', async () => {
      const a = await api(env().main.url, 'POST', '/api/uploads', bearer('mallory'), {
        name: 'x.bin',
        type: 'application/octet-stream',
        size: 10,
        md5: md5(Buffer.alloc(10)),
        copySource: `${BUCKET}/uploads/bob/x`,
      });
      return refusedWith(a, 400, 'validation_failed');
    });

    attack('1', 'the stock-Uppy signer is asked for extra signed headers (x-amz-copy-source)', async () => {
      const a = await api(env().main.url, 'POST', '/api/uppy/sign', bearer('mallory'), {
        method: 'PUT',
        key: 'x.bin',
        contentLength: 10,
        headers: { 'x-amz-copy-source': `${BUCKET}/uploads/bob/x` },
      });
      return refusedWith(a, 400, 'validation_failed');
    });
  });

  describe('6. stored metadata the signer never chose', () => {
    const metadata: [string, string][] = [
      ['cache-control', 'public, max-age=31536000, immutable'],
      ['content-disposition', 'inline; filename="invoice.html"'],
      ['content-encoding', 'gzip'],
      ['content-language', 'xx'],
      ['expires', 'Wed, 21 Oct 2099 07:28:00 GMT'],
    ];
    for (const [name, value] of metadata) {
      attack('6', `single PUT URL + unsigned ${name}`, async () => {
        const body = bytes(64);
        const own = await createSingle(env().main.url, 'mallory', body);
        const a = await send(own.put, body, { [name]: value });
        const kept = await exists(env().store.s3, BUCKET, own.key);
        return { ...refusedWith(a, 403, 'AccessDenied'), refused: a.status === 403 && !kept };
      });
    }
    attack('6', 'a different Content-Type than the signed one', async () => {
      const body = bytes(64);
      const own = await createSingle(env().main.url, 'mallory', body, { type: 'text/plain' });
      const a = await send(own.put, body, { 'content-type': 'text/html' });
      return refusedWith(a, 403, 'SignatureDoesNotMatch');
    });
    attack('6', 'metadata with a header-breaking value at create', async () => {
      const a = await api(env().main.url, 'POST', '/api/uploads', bearer('mallory'), {
        name: 'x.bin',
        type: 'application/octet-stream',
        size: 10,
        md5: md5(Buffer.alloc(10)),
        metadata: { note: 'a\r\nx-amz-copy-source: /security/uploads/bob/x' },
      });
      return refusedWith(a, 400, 'validation_failed');
    });
  });

  describe('10. aws-chunked bodies on URLs signed for raw bytes', () => {
    const chunked = (payload: Buffer) => Buffer.concat([Buffer.from(`${payload.length.toString(16)};chunk-signature=${'0'.repeat(64)}\r\n`), payload, Buffer.from(`\r\n0;chunk-signature=${'0'.repeat(64)}\r\n\r\n`)]);
    attack('10', 'Content-Encoding: aws-chunked + x-amz-decoded-content-length on an UNSIGNED-PAYLOAD URL', async () => {
      const body = chunked(Buffer.from('evil!'));
      const own = await createSingle(env().main.url, 'mallory', body);
      const a = await send(own.put, body, { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' });
      const kept = await stored(env().store.s3, BUCKET, own.key);
      return { ...refusedWith(a, [400, 403]), refused: (a.status === 400 || a.status === 403) && kept === null };
    });
    attack('10', 'Content-Encoding: aws-chunked alone on an UNSIGNED-PAYLOAD URL', async () => {
      const body = chunked(Buffer.from('evil!'));
      const own = await createSingle(env().main.url, 'mallory', body);
      const a = await send(own.put, body, { 'content-encoding': 'aws-chunked' });
      const kept = await stored(env().store.s3, BUCKET, own.key);
      // Stored bytes must be exactly the signed Content-Length's, or nothing at all.
      // An unsigned Content-Encoding is itself refused (403), also a refusal.
      return { ...refusedWith(a, [400, 403, 411]), refused: [400, 403, 411].includes(a.status) && (kept === null || kept.equals(body)) };
    });
  });
}
