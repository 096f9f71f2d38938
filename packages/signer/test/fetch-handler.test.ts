import { type UploadEvent, createSigner, openDevAuth, type Signer } from '@chute/signer';
import { chuteFetchHandler } from '@chute/signer/fetch';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { BUCKET, SECRETS, startStore } from './helpers.js';

// The fetch adapter in Node (the Worker runs the same file under workerd: apps/worker/test).
let store: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  store = await startStore();
});
afterAll(() => store.close());

type Env = { NAME: string };

test('one signer per env, /api/* to the core with CF-Connecting-IP as the client IP, the rest to fallback, hooks fire', async () => {
  const made: string[] = [];
  const events: UploadEvent[] = [];
  const handler = chuteFetchHandler<Env>({
    signer: (env) => {
      made.push(env.NAME);
      return createSigner({
        s3: { bucket: BUCKET, endpoint: store.r2.endpoint, forcePathStyle: true, credentials: store.r2.credentials },
        tokenSecrets: SECRETS,
        authenticate: openDevAuth(),
        rateLimit: false,
        onUploadAbort: (e) => void events.push(e),
      });
    },
    fallback: (request, env, signer: Signer) => new Response(`${env.NAME} ${new URL(request.url).pathname} ${signer.limits.maxParts}`),
  });
  const env = { NAME: 'a' };
  const loopback = { 'cf-connecting-ip': '127.0.0.1', 'content-type': 'application/json' };
  const c = await handler.fetch(new Request('http://w.test/api/uploads', { method: 'POST', headers: loopback, body: JSON.stringify({ name: 'x', size: 6 * 2 ** 20, multipart: true }) }), env);
  expect(c.status).toBe(201);
  const { uploadId, token } = (await c.json()) as { uploadId: string; token: string };
  const a = await handler.fetch(new Request(`http://w.test/api/uploads/${encodeURIComponent(uploadId)}`, { method: 'DELETE', headers: { ...loopback, 'chute-upload-token': token } }), env);
  expect(a.status).toBe(200);
  expect(events.map((e) => e.type)).toEqual(['upload.aborted']);
  // Open dev mode sees the header's IP: another address is refused, no header is refused.
  expect((await handler.fetch(new Request('http://w.test/api/uploads', { headers: { 'cf-connecting-ip': '203.0.113.9' } }), env)).status).toBe(403);
  expect((await handler.fetch(new Request('http://w.test/api/uploads'), env)).status).toBe(403);
  expect(await (await handler.fetch(new Request('http://w.test/index.html'), env)).text()).toBe('a /index.html 10000');
  expect(made).toEqual(['a']);
  await handler.fetch(new Request('http://w.test/x'), { NAME: 'b' });
  expect(made).toEqual(['a', 'b']);
});

test('a signer that cannot be made answers a JSON 500 (and is tried again), paths outside /api/ default to 404 JSON', async () => {
  let calls = 0;
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  const handler = chuteFetchHandler<object>({
    signer: () => {
      calls++;
      throw new Error('TOKEN_SECRETS is required');
    },
  });
  const env = {};
  const r = await handler.fetch(new Request('http://w.test/api/uploads'), env);
  expect([r.status, await r.json()]).toEqual([500, { error: { code: 'internal_error', message: 'The signer is not configured correctly; see its log.' } }]);
  await handler.fetch(new Request('http://w.test/api/uploads'), env);
  expect(calls).toBe(2);
  expect(String(logged.mock.calls[0]?.[0])).toContain('TOKEN_SECRETS is required');
  logged.mockRestore();
  const ok = chuteFetchHandler({ signer: createSigner({ s3: { bucket: BUCKET }, tokenSecrets: SECRETS, authenticate: () => null }) });
  const nf = await ok.fetch(new Request('http://w.test/other'), {});
  expect([nf.status, await nf.json()]).toEqual([404, { error: { code: 'not_found', message: 'Not found.' } }]);
});
