import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { MiB } from '@chute/protocol';
import { memoryLimitStore, type Signer } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, BUCKET, md5b64, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
let s3: S3Client;
beforeAll(async () => {
  store = await startStore();
  s3 = new S3Client({ endpoint: store.r2.endpoint, region: 'auto', forcePathStyle: true, credentials: store.r2.credentials });
});
afterAll(async () => {
  s3.destroy();
  await store.close();
});

const multipart = (size = 6 * MiB) => ({ name: 'q.bin', type: 'application/octet-stream', size, multipart: true, partSize: 5 * MiB });
const create = (s: Signer, who: 'alice' | 'bob' = 'alice', body: object = multipart()) => api<Json>(s, who, 'POST', '/api/uploads', body);
const abort = (s: Signer, who: 'alice' | 'bob', u: Json) =>
  api<Json>(s, who, 'DELETE', `/api/uploads/${encodeURIComponent(u.uploadId)}`, undefined, { 'chute-upload-token': u.token });
const signParts = (s: Signer, u: Json, n: number) =>
  api<Json>(s, 'alice', 'POST', `/api/uploads/${encodeURIComponent(u.uploadId)}/parts`, {
    token: u.token,
    parts: Array.from({ length: n }, (_, i) => ({ partNumber: i + 1, md5: md5b64(new Uint8Array()) })),
  });
async function openUploads(key: string): Promise<string[]> {
  const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
  return (r.Uploads ?? []).map((u) => u.UploadId as string);
}

describe('rate limit in points', () => {
  test('each signed URL costs a point: a second batch of 20 URLs passes a 30-point budget → 429', async () => {
    const s = signerFor(store.r2, { rateLimit: { capacity: 30, refillPerSecond: 0.01 } });
    const u = await create(s, 'alice', multipart(20 * 5 * MiB));
    expect(u.status).toBe(201);
    expect((await signParts(s, u.body, 20)).status).toBe(200); // 1 + 21 points
    const r = await signParts(s, u.body, 20); // 21 more: over 30
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  test('a batch larger than the whole budget is a 400 naming the most a request may sign', async () => {
    const s = signerFor(store.r2, { rateLimit: { capacity: 30, refillPerSecond: 0.01 } });
    const u = await create(s, 'alice', multipart(40 * 5 * MiB));
    const r = await signParts(s, u.body, 40);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.maxUrlsPerRequest).toBe(29);
  });

  test('the default memory store is per instance: two signers do not share a budget; one store given to both does', async () => {
    const rateLimit = { capacity: 3, refillPerSecond: 0.01 };
    const [a, b] = [signerFor(store.r2, { rateLimit }), signerFor(store.r2, { rateLimit })];
    const list = (s: Signer) => api(s, 'alice', 'GET', '/api/uploads').then((r) => r.status);
    const statuses = [await list(a), await list(a), await list(a), await list(b), await list(b), await list(b)];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await list(a)).toBe(429);

    const shared = memoryLimitStore();
    const [c, d] = [signerFor(store.r2, { rateLimit, limitStore: shared }), signerFor(store.r2, { rateLimit, limitStore: shared })];
    expect([await list(c), await list(d), await list(c), await list(d)]).toEqual([200, 200, 200, 429]);
  });

  test('100,000 distinct IPs: a new caller is still served, a flooding one still limited', async () => {
    const s = signerFor(store.r2, { rateLimit: { capacity: 3, refillPerSecond: 0.01 }, authenticate: () => null });
    const hit = (ip: string) => s.fetch(new Request('http://signer.test/api/uploads'), { ip }).then((r) => r.status);
    for (let i = 0; i < 100_000; i++) await hit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const flood: number[] = [];
    for (let i = 0; i < 7; i++) flood.push(await hit('192.0.2.1'));
    expect(flood).toEqual([401, 401, 401, 401, 401, 401, 429]);
    expect(await hit('192.0.2.2')).toBe(401);
  }, 120_000);
});

describe('quota: open multipart uploads', () => {
  test('the 4th open upload of a user is 429 quota_exceeded; abort and complete free a slot; another user is not touched', async () => {
    const s = signerFor(store.r2, { limits: { maxOpenUploads: 3 } });
    const made: Json[] = [];
    for (let i = 0; i < 3; i++) made.push((await create(s)).body);
    const inBucket = (await openUploads('uploads/alice/')).length;
    const r = await create(s);
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('quota_exceeded');
    expect(r.body.error.message).toMatch(/3 open multipart uploads.*complete or abort one/);
    expect(r.body.error.details).toMatchObject({ quota: 'maxOpenUploads', limit: 3 });
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await create(s, 'bob')).status).toBe(201);
    // A refused create made nothing in the bucket.
    expect((await openUploads('uploads/alice/')).length).toBe(inBucket);

    expect((await abort(s, 'alice', made[0])).status).toBe(200);
    expect((await create(s)).status).toBe(201);
    // Aborting the same upload twice frees one slot, not two.
    expect((await abort(s, 'alice', made[0])).status).toBe(200);
    expect((await create(s)).status).toBe(429);
    for (const u of made.slice(1)) await abort(s, 'alice', u);
  });

  test('a forgotten upload frees its slot when its token expires', async () => {
    let now = Date.now();
    const s = signerFor(store.r2, { now: () => now, limits: { maxOpenUploads: 1, tokenTtlSeconds: 60 } });
    expect((await create(s)).status).toBe(201);
    expect((await create(s)).status).toBe(429);
    now += 61_000;
    expect((await create(s)).status).toBe(201);
  });
});

describe('quota: bytes per day', () => {
  test('declared sizes add up per user; over the day’s quota is 429 quota_exceeded; a refused create costs nothing', async () => {
    const s = signerFor(store.r2, { limits: { maxBytesPerDay: 10 * MiB, multipartThreshold: 5 * MiB } });
    const file = new Uint8Array(4 * MiB);
    const inBucket = (await openUploads('uploads/alice/')).length;
    expect((await create(s, 'alice', { name: 'a.bin', size: file.length, md5: md5b64(file) })).status).toBe(201); // single PUT: 4 MiB
    const over = await create(s, 'alice', multipart(7 * MiB)); // 11 MiB > 10
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect(over.body.error.message).toMatch(/daily upload quota of 10 MiB per user; it frees at \d{4}-/);
    expect((await openUploads('uploads/alice/')).length).toBe(inBucket);
    const ok = await create(s, 'alice', multipart(6 * MiB)); // the refused 7 MiB were not counted: 10 MiB
    expect(ok.status).toBe(201);
    // Aborting does not give bytes back (else create/abort would be unbounded).
    await abort(s, 'alice', ok.body);
    expect((await create(s, 'alice', { name: 'b.bin', size: 1, md5: md5b64(new Uint8Array(1)) })).status).toBe(429);
    expect((await create(s, 'bob', multipart(6 * MiB))).status).toBe(201);
    const huge = await create(s, 'bob', multipart(11 * MiB));
    expect(huge.body.error.message).toMatch(/larger than the daily upload quota/);
  });
});

describe('owner abort with an expired upload token', () => {
  test('the owner aborts after expiry (the upload is gone from the bucket); other calls and other users still get 403', async () => {
    let now = Date.now();
    const s = signerFor(store.r2, { now: () => now, limits: { tokenTtlSeconds: 60 } });
    const u = (await create(s)).body;
    expect(await openUploads(u.key)).toEqual([u.uploadId]);
    now += 120_000;
    const sign = await signParts(s, u, 1);
    expect(sign.status).toBe(403);
    expect(sign.body.error.code).toBe('token_expired');
    const foreign = await abort(s, 'bob', u);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden');
    const r = await abort(s, 'alice', u);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ aborted: true, uploadId: u.uploadId });
    expect(await openUploads(u.key)).toEqual([]);
  });

  test('not forever: 30 days after expiry the token is refused; a forged token never', async () => {
    let now = Date.now();
    const s = signerFor(store.r2, { now: () => now, limits: { tokenTtlSeconds: 60 } });
    const u = (await create(s)).body;
    const [body, mac] = (u.token as string).split('.') as [string, string];
    const forged = { ...u, token: `${body}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}` };
    now += 120_000;
    expect((await abort(s, 'alice', forged)).body.error.code).toBe('invalid_token');
    now += 31 * 86_400_000;
    const late = await abort(s, 'alice', u);
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('token_expired');
  });
});
