import { describe, expect, test } from 'vitest';
import {
  ALL_CHECKSUM_HEADERS,
  base64ByteLength,
  CHECKSUM_HEADERS,
  CHECKSUM_TYPE,
  chuteErrorSchema,
  createUploadRequestSchema,
  createUploadResponseSchema,
  ERROR_CODES,
  ERROR_STATUS,
  errorBody,
  isChecksumValue,
  ROUTES,
  signPartsRequestSchema,
  statusOf,
  uppySignRequestSchema,
} from './index.js';

const MD5_OF_EMPTY = '1B2M2Y8AsgTpgAEY7ZEcRw==';

describe('create request', () => {
  test('accepts a minimal request and defaults the type', () => {
    const r = createUploadRequestSchema.parse({ name: 'a.txt', size: 3 });
    expect(r.type).toBe('');
  });
  test('rejects negative, fractional and huge sizes', () => {
    for (const size of [-1, 1.5, 2 ** 60, Number.NaN, '3']) {
      expect(createUploadRequestSchema.safeParse({ name: 'a', size }).success).toBe(false);
    }
  });
  test('rejects a malformed MD5 and unknown algorithms', () => {
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, md5: 'abc' }).success).toBe(false);
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, md5: MD5_OF_EMPTY }).success).toBe(true);
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, checksumAlgorithm: 'MD4' }).success).toBe(false);
  });
  test('rejects bad metadata keys', () => {
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, metadata: { 'Bad Key': 'x' } }).success).toBe(false);
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, metadata: { k: 'naïve\n' } }).success).toBe(false);
    expect(createUploadRequestSchema.safeParse({ name: 'a', size: 1, metadata: { k: 'plain value 1' } }).success).toBe(true);
  });
});

describe('responses', () => {
  test('the create response is a discriminated union', () => {
    const single = createUploadResponseSchema.parse({
      type: 'single',
      key: 'k',
      request: { method: 'PUT', url: 'http://x', headers: {}, expiresAt: '2030-01-01T00:00:00.000Z' },
    });
    expect(single.type).toBe('single');
    expect(createUploadResponseSchema.safeParse({ type: 'multipart', key: 'k' }).success).toBe(false);
  });
});

describe('sign parts', () => {
  test('part numbers are 1..10,000', () => {
    expect(signPartsRequestSchema.safeParse({ token: 't', parts: [{ partNumber: 0 }] }).success).toBe(false);
    expect(signPartsRequestSchema.safeParse({ token: 't', parts: [{ partNumber: 10_001 }] }).success).toBe(false);
    expect(signPartsRequestSchema.safeParse({ token: 't', parts: [{ partNumber: 10_000 }] }).success).toBe(true);
    expect(signPartsRequestSchema.safeParse({ token: 't', parts: [] }).success).toBe(false);
  });
});

describe('checksums', () => {
  test('every algorithm has a header and R2 checksum type', () => {
    expect(CHECKSUM_HEADERS.CRC64NVME).toBe('x-amz-checksum-crc64nvme');
    expect(CHECKSUM_TYPE.CRC64NVME).toBe('FULL_OBJECT');
    expect(CHECKSUM_TYPE.SHA256).toBe('COMPOSITE');
    expect(ALL_CHECKSUM_HEADERS).toContain('content-md5');
  });
  test('base64 lengths are validated per algorithm', () => {
    expect(base64ByteLength(MD5_OF_EMPTY)).toBe(16);
    expect(base64ByteLength('not base64!')).toBe(-1);
    expect(isChecksumValue('MD5', MD5_OF_EMPTY)).toBe(true);
    expect(isChecksumValue('CRC32', 'AAAAAA==')).toBe(true);
    expect(isChecksumValue('CRC64NVME', 'AAAAAA==')).toBe(false);
    expect(isChecksumValue('CRC64NVME', 'AAAAAAAAAAA=')).toBe(true);
  });
});

describe('errors', () => {
  test('one status per code, all 4xx/5xx', () => {
    for (const code of ERROR_CODES) expect(statusOf(code)).toBeGreaterThanOrEqual(400);
    expect(ERROR_STATUS.unauthorized).toBe(401);
    expect(ERROR_STATUS.rate_limited).toBe(429);
  });
  test('the error body matches its schema', () => {
    expect(chuteErrorSchema.parse(errorBody('file_too_large', 'too big', { max: 1 }))).toEqual({
      error: { code: 'file_too_large', message: 'too big', details: { max: 1 } },
    });
    expect(chuteErrorSchema.safeParse({ error: { code: 'nope', message: '' } }).success).toBe(false);
  });
});

test('routes encode upload ids', () => {
  expect(ROUTES.parts('a/b c')).toBe('/api/uploads/a%2Fb%20c/parts');
});

test('uppy sign request accepts the stock shapes', () => {
  for (const r of [
    { method: 'POST', key: 'k' },
    { method: 'PUT', key: 'k', contentType: 'image/png' },
    { method: 'PUT', key: 'k', uploadId: 'u', partNumber: 1 },
    { method: 'GET', key: 'k', uploadId: 'u' },
    { method: 'DELETE', key: 'k', uploadId: 'u' },
  ]) {
    expect(uppySignRequestSchema.safeParse(r).success).toBe(true);
  }
});
