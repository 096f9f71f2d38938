import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, test } from 'vitest';
import { TemplatePresigner } from './fast-presign.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2026-11-25T10:00:00Z');
const options = {
  expiresIn: 900,
  signingDate,
  signableHeaders: new Set(['content-type', 'content-length', 'content-md5']),
  unhoistableHeaders: new Set(['x-amz-checksum-crc64nvme', 'x-amz-checksum-sha256']),
};

function params(url: string): Record<string, string> {
  const u = new URL(url);
  return { origin: u.origin, path: u.pathname, ...Object.fromEntries(u.searchParams) };
}

async function sdkUrl(client: S3Client, key: string, partNumber: number, size: number, extra: Record<string, string>) {
  const cmd = new UploadPartCommand({ Bucket: 'my-bucket', Key: key, UploadId: 'up/1+=', PartNumber: partNumber, ContentLength: size, ...extra });
  cmd.middlewareStack.add(
    (next) => async (args) => {
      delete (args.request as { headers: Record<string, string> }).headers['content-type'];
      return next(args);
    },
    { step: 'build', name: 'dropCt', priority: 'low' },
  );
  return getSignedUrl(client, cmd, options);
}

describe('TemplatePresigner equals getSignedUrl', () => {
  for (const [style, client] of [
    ['path-style', new S3Client({ region: 'auto', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' })],
    ['virtual-hosted R2', new S3Client({ region: 'auto', endpoint: 'https://abc123.r2.cloudflarestorage.com', credentials, requestChecksumCalculation: 'WHEN_REQUIRED' })],
    ['session token', new S3Client({ region: 'auto', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials: { ...credentials, sessionToken: 'tok/en+=' }, requestChecksumCalculation: 'WHEN_REQUIRED' })],
  ] as const) {
    test(style, async () => {
      const key = "uploads/al ice/ü ñ/x(1)!'*.bin";
      // A template made on another day, for another part, with other headers and expiry.
      const template = await getSignedUrl(client, new UploadPartCommand({ Bucket: 'my-bucket', Key: key, UploadId: 'up/1+=', PartNumber: 1 }), {
        expiresIn: 60,
        signingDate: new Date('2026-10-01T00:00:00Z'),
      });
      const sign = await new TemplatePresigner(template).at(signingDate.getTime(), 900, await client.config.credentials());
      const cases: [number, number, Record<string, string>, Record<string, string>][] = [
        [2, 5242880, { ContentMD5: 'XrY7u+Ae7tCTyyK7j1rNww==' }, { 'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==' }],
        [9999, 7, { ContentMD5: 'XrY7u+Ae7tCTyyK7j1rNww==', ChecksumCRC64NVME: 'AAAAAAAAAAA=' }, { 'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==', 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' }],
        [3, 0, {}, {}],
      ];
      for (const [n, size, sdkExtra, headers] of cases) {
        const expected = await sdkUrl(client, key, n, size, sdkExtra);
        const actual = sign.url('PUT', { partNumber: String(n) }, { ...headers, 'content-length': String(size) });
        expect(params(actual)).toEqual(params(expected));
        // The compact form (template + signature) rebuilds exactly the same URL.
        const signed = { ...headers, 'content-length': String(size) };
        const rebuilt = sign
          .template(['partNumber'], Object.keys(signed))
          .replace('{partNumber}', String(n))
          .replace('{signature}', sign.signature('PUT', { partNumber: String(n) }, signed));
        expect(rebuilt).toBe(actual);
      }
    });
  }
  test('refuses a URL that is not a SigV4 presigned URL', () => {
    expect(() => new TemplatePresigner('http://x/b/k?foo=1')).toThrow(TypeError);
    expect(() => new TemplatePresigner('http://x/b/k?X-Amz-Credential=a%2F20260101%2Fauto%2Fsts%2Faws4_request')).toThrow(TypeError);
  });
});
