import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { applyBucket, planBucket } from './setup.js';

test('bucket CORS and lifecycle calls carry Content-MD5, not the SDK CRC32 R2 does not support there', async () => {
  // A recording transport (the only way to see the bytes on the wire; the real calls are tested
  // against local-r2 in test/setup.test.ts).
  const seen: { path: string; headers: Record<string, string>; body: string }[] = [];
  const client = new S3Client({
    region: 'auto',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler: {
      handle: async (req: { path: string; headers: Record<string, string>; body: unknown }) => {
        seen.push({ path: req.path, headers: req.headers, body: String(req.body) });
        return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } };
      },
    } as never,
  });
  await applyBucket(client, 'bkt', planBucket({ cors: [], lifecycle: [] }, ['https://app.example'], 7));
  expect(seen).toHaveLength(2);
  for (const r of seen) {
    expect(Object.keys(r.headers).filter((h) => h.startsWith('x-amz-checksum') || h === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    expect(r.headers['content-md5']).toBe(createHash('md5').update(r.body).digest('base64'));
    expect(r.headers.authorization).toContain('content-md5');
  }
});

test('planBucket keeps other rules and replaces its own', () => {
  const first = planBucket({ cors: [{ ID: 'x', AllowedMethods: ['GET'], AllowedOrigins: ['*'] }], lifecycle: [] }, ['https://a.example'], 3);
  const second = planBucket(first, ['https://b.example'], 5);
  expect(second.cors.map((r) => r.ID)).toEqual(['x', 'chute-uploads']);
  expect(second.cors[1]?.AllowedOrigins).toEqual(['https://b.example']);
  expect(second.lifecycle).toHaveLength(1);
  expect(second.lifecycle[0]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation).toBe(5);
});
