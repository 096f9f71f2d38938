import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, test } from 'vitest';
import { SinglePutPresigner } from './put-presign.js';
import { Store } from './s3.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const nowMs = Date.parse('2026-11-25T10:00:07.123Z');

/** The URL as S3 reads it: origin and path exactly, the query as a set of raw pairs. */
const shapeOf = (url: string) => {
  const [head, query = ''] = url.split('?');
  return { head, query: query.split('&').sort() };
};

const KEYS = [
  'uploads/alice/3f1c/report.pdf',
  "uploads/al ice/ü ñ/x(1)!'*.bin",
  'uploads/u/a+b=c&d%e#f?g~h,;:@$[].txt',
  'uploads/u/日本語 ファイル.png',
  'uploads/u/emoji-😀.bin',
];

const STYLES = [
  ['path-style local', { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials }],
  ['virtual-hosted R2', { endpoint: 'https://abc123.r2.cloudflarestorage.com', credentials }],
  ['session token', { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials: { ...credentials, sessionToken: 'tok/en+=' } }],
] as const;

const SHAPES = [
  { size: 262144, md5: 'XrY7u+Ae7tCTyyK7j1rNww==' },
  { size: 7, checksum: { algorithm: 'CRC64NVME' as const, value: 'AAAAAAAAAAA=' } },
  { size: 0, checksum: { algorithm: 'SHA256' as const, value: '47DEQpj8HBSa+/TKIowX3gQiaDUtjP6nkuoZ0VcgMkI=' } },
  { md5: 'XrY7u+Ae7tCTyyK7j1rNww==' },
  {},
];

type Shape = (typeof SHAPES)[number];

/** The SDK's command fields and the signed headers (lower-case) of one shape. */
function request(shape: Shape, contentType: string) {
  const fields = {
    ContentType: contentType,
    ...(shape.size !== undefined ? { ContentLength: shape.size } : {}),
    ...(shape.md5 ? { ContentMD5: shape.md5 } : {}),
    ...(shape.checksum?.algorithm === 'CRC64NVME' ? { ChecksumCRC64NVME: shape.checksum.value } : {}),
    ...(shape.checksum?.algorithm === 'SHA256' ? { ChecksumSHA256: shape.checksum.value } : {}),
  };
  const headers = {
    'content-type': contentType,
    ...(shape.size !== undefined ? { 'content-length': String(shape.size) } : {}),
    ...(shape.md5 ? { 'content-md5': shape.md5 } : {}),
    ...(shape.checksum ? { [`x-amz-checksum-${shape.checksum.algorithm.toLowerCase()}`]: shape.checksum.value } : {}),
  };
  return { fields, headers };
}

const SDK_OPTIONS = {
  signableHeaders: new Set(['content-type', 'content-length', 'content-md5']),
  unhoistableHeaders: new Set(['x-amz-checksum-crc64nvme', 'x-amz-checksum-sha256']),
};

describe('Store.presignPut equals the AWS presigner', () => {
  for (const [style, opts] of STYLES) {
    test(style, async () => {
      const store = new Store({ bucket: 'my-bucket', region: 'auto', ...opts });
      const client = new S3Client({ region: 'auto', ...opts, requestChecksumCalculation: 'WHEN_REQUIRED' });
      for (const shape of SHAPES) {
        for (const contentType of ['application/pdf', 'text/plain; charset=utf-8']) {
          for (const key of KEYS) {
            const got = await store.presignPut({ key, contentType, ...shape }, 900, nowMs);
            const expected = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'my-bucket', Key: key, ...request(shape, contentType).fields }), {
              expiresIn: 900,
              signingDate: new Date(nowMs),
              ...SDK_OPTIONS,
            });
            expect(shapeOf(got.url), `${key} ${JSON.stringify(shape)}`).toEqual(shapeOf(expected));
          }
        }
      }
    });
  }

  test('metadata goes through the SDK (hoisted x-amz-meta-* values) and still signs', async () => {
    const store = new Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials });
    const { url } = await store.presignPut({ key: 'k/a.txt', contentType: 'text/plain', size: 3, metadata: { owner: 'al ice' } }, 60, nowMs);
    expect(new URL(url).searchParams.get('x-amz-meta-owner')).toBe('al ice');
  });
});

describe('SinglePutPresigner', () => {
  test('re-signs every store style, header shape and key itself after one SDK probe per shape', async () => {
    for (const [style, opts] of STYLES) {
      const client = new S3Client({ region: 'auto', ...opts, requestChecksumCalculation: 'WHEN_REQUIRED' });
      const presigner = new SinglePutPresigner(() => client.config.credentials());
      for (const shape of SHAPES) {
        const { fields, headers } = request(shape, 'image/png');
        const sdk = (key: string) =>
          getSignedUrl(client, new PutObjectCommand({ Bucket: 'my-bucket', Key: key, ...fields }), { expiresIn: 900, signingDate: new Date(nowMs), ...SDK_OPTIONS });
        let calls = 0;
        const counted = (key: string) => {
          calls++;
          return sdk(key);
        };
        for (const key of KEYS) {
          const url = await presigner.url(key, headers, 900, nowMs, counted);
          expect(shapeOf(url), `${style} ${key} ${JSON.stringify(shape)}`).toEqual(shapeOf(await sdk(key)));
        }
        expect(calls, `${style} ${JSON.stringify(shape)}: SDK calls`).toBe(1);
      }
    }
  });

  const creds = async () => credentials;
  const headers = { 'content-type': 'text/plain', 'content-length': '3' };

  test('a shape whose SDK URL it cannot reproduce is signed by the SDK from then on', async () => {
    const presigner = new SinglePutPresigner(creds);
    const asked: string[] = [];
    // An SDK that puts something into every URL the re-signer does not know about.
    const sdk = async (key: string) => {
      asked.push(key);
      return `http://127.0.0.1:9000/b/${encodeURIComponent(key)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00&x-id=PutObject&surprise=1`;
    };
    const first = await presigner.url('k/one.txt', headers, 60, nowMs, sdk);
    const second = await presigner.url('k/two.txt', headers, 60, nowMs, sdk);
    expect(first).toContain('surprise=1');
    expect(second).toContain(encodeURIComponent('k/two.txt'));
    // The probe, then each key by the SDK: the shape was learnt once and refused.
    expect(asked.slice(1)).toEqual(['k/one.txt', 'k/two.txt']);
  });

  test('a trusted shape asks the SDK once (its probe) for any number of URLs', async () => {
    const client = new S3Client({ region: 'auto', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const presigner = new SinglePutPresigner(creds);
    let calls = 0;
    const sdk = (key: string) => {
      calls++;
      return getSignedUrl(client, new PutObjectCommand({ Bucket: 'b', Key: key, ContentType: 'text/plain', ContentLength: 3 }), {
        expiresIn: 60,
        signingDate: new Date(nowMs),
        signableHeaders: new Set(['content-type', 'content-length', 'content-md5']),
      });
    };
    const urls = await Promise.all(Array.from({ length: 50 }, (_, i) => presigner.url(`k/f-${i}.txt`, headers, 60, nowMs, sdk)));
    expect(new Set(urls).size).toBe(50);
    expect(calls).toBe(1); // the probe, shared by the whole burst
    for (const [i, url] of urls.entries()) expect(shapeOf(url)).toEqual(shapeOf(await sdk(`k/f-${i}.txt`)));
    expect(await presigner.url('k/late.txt', headers, 60, nowMs, async () => { throw new Error('the SDK was asked again'); })).toContain('/b/k/late.txt?');
  });
});
