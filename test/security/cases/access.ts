// Variants across holes: forged, reused and foreign tokens, other users' uploads and keys, odd
// keys, oversize and malformed requests, request smuggling, each auth mode without credentials.
import { describe } from 'vitest';
import type { Env } from '../lib/env.js';
import { createMultipart, createSingle, md5, uppySign } from '../lib/flows.js';
import { api, raw, stall } from '../lib/http.js';
import { bearer } from '../lib/servers.js';
import { attack, refusedWith } from '../lib/suite.js';

const MiB = 1024 * 1024;
const flip = (t: string) => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.slice(-1);

export function accessCases(env: () => Env): void {
  const base = () => env().main.url;
  const parts = (id: string) => `/api/uploads/${encodeURIComponent(id)}/parts`;

  describe('variants: upload tokens and other users', () => {
    attack('V', 'a forged upload token (one MAC character changed)', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      return refusedWith(await api(base(), 'POST', parts(up.uploadId), bearer('mallory'), { token: flip(up.token), parts: [{ partNumber: 1, md5: md5(Buffer.alloc(1)) }] }), 403, 'invalid_token');
    });
    attack('V', 'a token whose payload was edited (bigger size, same MAC)', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      const [body, mac] = up.token.split('.') as [string, string];
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
      payload.s = 5 * 1024 * MiB;
      const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
      return refusedWith(await api(base(), 'POST', parts(up.uploadId), bearer('mallory'), { token: forged, parts: [{ partNumber: 1, md5: md5(Buffer.alloc(1)) }] }), 403, 'invalid_token');
    });
    attack('V', "alice's upload token presented by mallory", async () => {
      const up = await createMultipart(base(), 'alice', 12 * MiB);
      return refusedWith(await api(base(), 'POST', parts(up.uploadId), bearer('mallory'), { token: up.token, parts: [{ partNumber: 1, md5: md5(Buffer.alloc(1)) }] }), 403, 'forbidden');
    });
    attack('V', "a token reused for another upload id (mallory's token on alice's upload)", async () => {
      const mine = await createMultipart(base(), 'mallory', 12 * MiB);
      const hers = await createMultipart(base(), 'alice', 12 * MiB);
      return refusedWith(await api(base(), 'POST', parts(hers.uploadId), bearer('mallory'), { token: mine.token, parts: [{ partNumber: 1, md5: md5(Buffer.alloc(1)) }] }), 403, 'invalid_token');
    });
    attack('V', "mallory aborts alice's upload with her own token", async () => {
      const mine = await createMultipart(base(), 'mallory', 12 * MiB);
      const hers = await createMultipart(base(), 'alice', 12 * MiB);
      return refusedWith(await api(base(), 'DELETE', `/api/uploads/${encodeURIComponent(hers.uploadId)}`, { ...bearer('mallory'), 'chute-upload-token': mine.token }), 403);
    });
    attack('V', "mallory completes alice's upload with alice's token", async () => {
      const hers = await createMultipart(base(), 'alice', 12 * MiB);
      return refusedWith(await api(base(), 'POST', `/api/uploads/${encodeURIComponent(hers.uploadId)}/complete`, bearer('mallory'), { token: hers.token }), 403, 'forbidden');
    });
    attack('V', "mallory lists the parts of alice's upload", async () => {
      const hers = await createMultipart(base(), 'alice', 12 * MiB);
      return refusedWith(await api(base(), 'GET', parts(hers.uploadId), { ...bearer('mallory'), 'chute-upload-token': hers.token }), 403, 'forbidden');
    });
    attack('V', 'an upload token used as a stock-Uppy self-URL token', async () => {
      const up = await createMultipart(base(), 'mallory', 12 * MiB);
      return refusedWith(await raw(`${base()}/api/uppy/s3/abort?t=${encodeURIComponent(up.token)}`, { method: 'DELETE' }), 403, 'invalid_token');
    });
  });

  describe("variants: other users' keys and odd keys", () => {
    const downloads: [string, string][] = [
      ["alice's key", 'uploads/alice/x/a.bin'],
      ['a .. segment out of the prefix', 'uploads/mallory/../alice/x/a.bin'],
      ['%2F instead of /', 'uploads%2Falice%2Fx%2Fa.bin'],
      ['an encoded .. (%2e%2e)', 'uploads/mallory/%2e%2e/alice/a.bin'],
      ['a NUL byte', 'uploads/mallory/x\u0000/../../alice/a.bin'],
      ['a control character', 'uploads/mallory/x\u0007y'],
      ['a lone surrogate', 'uploads/mallory/\ud800'],
      ['a key over 1024 bytes', `uploads/mallory/${'k'.repeat(1100)}`],
    ];
    for (const [what, key] of downloads) {
      attack('V', `download with ${what}`, async () => {
        const a = await api(base(), 'POST', '/api/downloads', bearer('mallory'), { key });
        // 404: a literal key under mallory's own prefix that does not exist — no URL either way.
        return { ...refusedWith(a, [400, 403, 404]), refused: a.status >= 400 && a.json.request === undefined && (what !== "alice's key" || a.status === 403) };
      });
    }
    attack('V', "stock Uppy: list the parts of a key in alice's prefix", async () =>
      refusedWith(await uppySign(base(), 'mallory', { method: 'GET', key: 'uploads/alice/x/a.bin', uploadId: 'chute1.x' }), [400, 403]),
    );
    attack('V', 'a file name with ../../ stays one segment under the caller prefix', async () => {
      const own = await createSingle(base(), 'mallory', Buffer.alloc(3), { name: '../../alice/../../etc/passwd' });
      const ok = own.key.startsWith('uploads/mallory/') && !own.key.split('/').some((s) => s === '..' || s === '.');
      return { answer: `key ${own.key}`, refused: ok };
    });
    attack('V', "mallory lists alice's uploads by cursor", async () =>
      refusedWith(await api(base(), 'GET', `/api/uploads?cursor=${Buffer.from('uploads/alice/').toString('base64url')}`, bearer('mallory')), 400, 'validation_failed'),
    );
  });

  describe('variants: malformed, oversize and smuggled requests', () => {
    attack('V', 'a 2 MiB JSON body (limit 1 MiB)', async () => refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), `{"name":"${'a'.repeat(2 * MiB)}"}`), 413, 'payload_too_large'));
    attack('V', 'a file over MAX_FILE_SIZE (Chute path)', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), { name: 'a.bin', type: 'application/octet-stream', size: 25_000_000, multipart: true }), 413, 'file_too_large'),
    );
    attack('V', 'a type outside ALLOWED_CONTENT_TYPES', async () =>
      refusedWith(await api(base(), 'POST', '/api/uploads', bearer('mallory'), { name: 'a.exe', type: 'application/x-msdownload', size: 10, md5: md5(Buffer.alloc(10)) }), 415, 'content_type_not_allowed'),
    );
    attack('V', 'Content-Length and Transfer-Encoding together (request smuggling)', async () => {
      const r = await stall(base(), `POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(bearer('mallory')).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 3000);
      const statuses = [...r.answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      return { answer: `${statuses.join(', ') || 'no answer'} then ${r.ended}`, refused: statuses.length === 1 && statuses[0] === 400 };
    });
    attack('V', 'a header value with a bare CR (header injection)', async () => {
      const r = await stall(base(), `GET /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'x'}\rX-Injected: 1\r\n\r\n`, 3000);
      return { answer: r.answer.split('\r\n')[0] || r.ended, refused: /^HTTP\/1\.1 400/.test(r.answer) };
    });
    attack('V', 'the Host header carries a path (host confusion for self-URLs)', async () => refusedWith(await raw(`${base()}/api/uploads`, { host: 'evil.example/x', headers: bearer('mallory') }), [400, 403, 421]));
    attack('V', 'tokens mode without credentials', async () => refusedWith(await api(base(), 'GET', '/api/uploads', {}), 401, 'unauthorized'));
    attack('V', 'tokens mode with an unknown bearer token', async () => refusedWith(await api(base(), 'GET', '/api/uploads', { authorization: 'Bearer not-a-real-token-0123456789' }), 401, 'unauthorized'));
    attack('V', 'a presigned URL whose X-Amz-Expires was raised to a week', async () => {
      const own = await createSingle(base(), 'mallory', Buffer.alloc(5));
      const u = new URL(own.put.url);
      u.searchParams.set('X-Amz-Expires', '604800');
      return refusedWith(await raw(u.toString(), { method: 'PUT', headers: own.put.headers, body: Buffer.alloc(5) }), 403, 'SignatureDoesNotMatch');
    });
    attack('V', 'a presigned PUT URL replayed as a DELETE of the same key', async () => {
      const own = await createSingle(base(), 'mallory', Buffer.alloc(5));
      return refusedWith(await raw(own.put.url, { method: 'DELETE' }), 403, 'SignatureDoesNotMatch');
    });
  });
}
