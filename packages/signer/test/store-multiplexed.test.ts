// `s3.multiplexed` → `storeMultiplexed` in create answers (single and multipart), against a real local-r2.
import { MiB, multipartUploadResponseSchema, singleUploadResponseSchema } from '@chute/protocol';
import { createS3Client, knownMultiplexed, type S3Options } from '@chute/signer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, bytes, md5b64, signerFor, startStore } from './helpers.js';

type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  store = await startStore();
});
afterAll(() => store.close());

const small = bytes(100);
const s3With = (over: Partial<S3Options>): S3Options => ({
  bucket: 'chute-test',
  endpoint: store.r2.endpoint,
  forcePathStyle: true,
  credentials: store.r2.credentials,
  ...over,
});

/** One single and one multipart create; both answers checked against the protocol's schemas. */
async function creates(s3: S3Options): Promise<{ single: Json; multipart: Json }> {
  const signer = signerFor(store.r2, { s3, limits: { multipartThreshold: 6 * MiB } });
  const single = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'a.txt', size: small.length, md5: md5b64(small) });
  const multipart = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: 'b.bin', size: 12 * MiB, partSize: 6 * MiB });
  expect([single.status, multipart.status]).toEqual([201, 201]);
  expect([single.body.type, multipart.body.type]).toEqual(['single', 'multipart']);
  singleUploadResponseSchema.parse(single.body);
  multipartUploadResponseSchema.parse(multipart.body);
  return { single: single.body, multipart: multipart.body };
}

/** S3 options naming `endpoint` whose requests go to local-r2 through a client built for it. */
async function withEndpoint<T>(endpoint: string, fn: (s3: S3Options) => Promise<T>): Promise<T> {
  const client = createS3Client(s3With({}));
  try {
    return await fn(s3With({ endpoint, client }));
  } finally {
    client.destroy();
  }
}

describe('storeMultiplexed in create answers', () => {
  test('a plain http:// endpoint (local-r2 here), nothing set: false (browsers speak HTTP/2 only over TLS)', async () => {
    const { single, multipart } = await creates(s3With({}));
    expect([single.storeMultiplexed, multipart.storeMultiplexed]).toEqual([false, false]);
  });

  test('unknown (a non-R2 https:// endpoint, nothing set): the field is absent', () =>
    withEndpoint('https://s3.example.com', async (s3) => {
      const { single, multipart } = await creates(s3);
      expect('storeMultiplexed' in single).toBe(false);
      expect('storeMultiplexed' in multipart).toBe(false);
    }));

  test('multiplexed: true / false are said as set (true wins over a plain-HTTP endpoint)', async () => {
    for (const multiplexed of [true, false]) {
      const { single, multipart } = await creates(s3With({ multiplexed }));
      expect([single.storeMultiplexed, multipart.storeMultiplexed]).toEqual([multiplexed, multiplexed]);
    }
  });

  test('an R2 endpoint is known to be multiplexed; an explicit false wins over that', () =>
    // The endpoint names R2; the requests go to local-r2 through the given client.
    withEndpoint('https://0123456789abcdef.r2.cloudflarestorage.com', async (r2) => {
      const known = await creates(r2);
      expect([known.single.storeMultiplexed, known.multipart.storeMultiplexed]).toEqual([true, true]);
      const off = await creates({ ...r2, multiplexed: false });
      expect([off.single.storeMultiplexed, off.multipart.storeMultiplexed]).toEqual([false, false]);
    }));

  test('a function is asked at every create; undefined from it falls back to what the endpoint says', async () => {
    const seenWith = async (s3: S3Options, answers: (boolean | undefined)[]) => {
      let asked = 0;
      const signer = signerFor(store.r2, { s3: { ...s3, multiplexed: () => answers[asked++] } });
      const seen: unknown[] = [];
      for (let i = 0; i < answers.length; i++) {
        const c = await api<Json>(signer, 'alice', 'POST', '/api/uploads', { name: `f${i}.txt`, size: small.length, md5: md5b64(small) });
        expect(c.status).toBe(201);
        seen.push('storeMultiplexed' in c.body ? c.body.storeMultiplexed : 'absent');
      }
      expect(asked).toBe(answers.length);
      return seen;
    };
    const answers = [undefined, true, false, undefined];
    expect(await withEndpoint('https://s3.example.com', (s3) => seenWith(s3, answers))).toEqual(['absent', true, false, 'absent']);
    expect(await seenWith(s3With({}), answers)).toEqual([false, true, false, false]);
  });
});

test('knownMultiplexed: https R2 endpoints true, plain http false, anything else unknown', () => {
  expect(knownMultiplexed('https://acct.r2.cloudflarestorage.com')).toBe(true);
  expect(knownMultiplexed('https://acct.eu.r2.cloudflarestorage.com/')).toBe(true);
  expect(knownMultiplexed('http://acct.r2.cloudflarestorage.com')).toBe(false);
  expect(knownMultiplexed('http://127.0.0.1:9000')).toBe(false);
  expect(knownMultiplexed('HTTP://localhost:9000/bucket')).toBe(false);
  expect(knownMultiplexed('https://r2.cloudflarestorage.com.evil.example')).toBeUndefined();
  expect(knownMultiplexed('https://s3.amazonaws.com')).toBeUndefined();
  expect(knownMultiplexed('ftp://example.com')).toBeUndefined();
  expect(knownMultiplexed('not a url')).toBeUndefined();
  expect(knownMultiplexed(undefined)).toBeUndefined();
});
