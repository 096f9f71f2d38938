// The per-upload URL budget: about 10 URLs per part over the token's lifetime (at least 50), on
// the Chute path and the stock-Uppy path; other uploads keep their own budget.
import { MiB } from '@chute/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  store = await startStore();
});
afterAll(() => store.close());

const MD5 = '1B2M2Y8AsgTpgAmY7PhCfg==';

test('Chute path: 50 URLs for a 3-part upload, then 429 quota_exceeded; a new upload signs again', async () => {
  const signer = signerFor(store.r2);
  const create = async () => (await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 12 * MiB, multipart: true, partSize: 5 * MiB })).body;
  const up = await create();
  const sign = (u: Json, n: number[]) =>
    api<Json>(signer, 'alice', 'POST', `/api/uploads/${encodeURIComponent(u.uploadId)}/parts`, { token: u.token, parts: n.map((partNumber) => ({ partNumber, md5: MD5 })) });
  let urls = 0;
  let last: Json;
  for (let i = 0; i < 30; i++) {
    last = await sign(up, [1, 2]);
    if (last.status !== 200) break;
    urls += 2;
  }
  expect(urls, JSON.stringify(last.body)).toBe(50);
  expect([last.status, last.body.error.code]).toEqual([429, 'quota_exceeded']);
  expect(last.body.error.message).toMatch(/start the upload again/);
  expect((await sign(await create(), [1, 2, 3])).status).toBe(200);
});

test('stock-Uppy path: the wrapped upload id carries the same budget', async () => {
  const signer = signerFor(store.r2);
  const c = await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'POST', key: 'm.bin', size: 6 * MiB });
  const created = await signer.fetch(new Request(c.body.url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }));
  const uploadId = /<UploadId>([^<]+)</.exec(await created.text())?.[1] as string;
  const statuses: number[] = [];
  for (let i = 0; i < 52; i++) statuses.push((await api<Json>(signer, 'alice', 'POST', '/api/uppy/sign', { method: 'PUT', key: c.body.key, uploadId, partNumber: 1 })).status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(50);
  expect(statuses.slice(50)).toEqual([429, 429]);
});
