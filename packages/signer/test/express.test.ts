import { afterAll, beforeAll, expect, test } from 'vitest';
import { bytes, md5b64, startExpressApp, startStore } from './helpers.js';

let store: Awaited<ReturnType<typeof startStore>>;
let app: Awaited<ReturnType<typeof startExpressApp>>;
let base: string;
beforeAll(async () => {
  store = await startStore();
  app = await startExpressApp(store.r2);
  base = app.base;
});
afterAll(async () => {
  app.stop();
  await store.close();
});

const auth = { authorization: 'Bearer alice-secret-token', 'content-type': 'application/json' };

test('mounted under a path: create and upload through real HTTP', async () => {
  const f = bytes(20);
  const r = await fetch(`${base}/api/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'e.txt', size: 20, md5: md5b64(f) }) });
  expect(r.status).toBe(201);
  expect(r.headers.get('content-type')).toContain('application/json');
  const body = (await r.json()) as { request: { url: string; headers: Record<string, string> } };
  expect((await fetch(body.request.url, { method: 'PUT', headers: body.request.headers, body: f })).status).toBe(200);
});

test('stock-Uppy self-URLs include the mount path', async () => {
  const r = await fetch(`${base}/api/uppy/sign`, { method: 'POST', headers: auth, body: JSON.stringify({ method: 'POST', key: 'k.bin', size: 10 }) });
  const { url } = (await r.json()) as { url: string };
  expect(url.startsWith(`${base}/api/uppy/s3/create?t=`)).toBe(true);
  const created = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
  expect(created.status).toBe(200);
  expect(await created.text()).toContain('<UploadId>');
});

test('a streamed oversized body is cut off with 413; the server stays up', async () => {
  const big = new ReadableStream({
    start(c) {
      for (let i = 0; i < 64; i++) c.enqueue(new Uint8Array(16 * 1024).fill(32));
      c.close();
    },
  });
  const r = await fetch(`${base}/api/uploads`, { method: 'POST', headers: auth, body: big, duplex: 'half' } as RequestInit);
  expect(r.status).toBe(413);
  expect(((await r.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  const ok = await fetch(`${base}/api/uploads`, { headers: auth });
  expect(ok.status).toBe(200);
});

test('paths outside /api pass through to the app; a `//host` path is a path, not a host', async () => {
  expect(await (await fetch(`${base}/other`)).text()).toBe('passed through');
  expect((await fetch(`${base}//evil.example/api/uploads`, { headers: auth })).status).toBe(404);
});
