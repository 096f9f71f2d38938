import { expect, test } from 'vitest';
import { listUploadsQuerySchema } from './api.js';
import { ERROR_STATUS } from './errors.js';
import { isWellFormed, objectKeySchema, uploadIdSchema, utf8Length } from './text.js';

test('well-formed text: paired surrogates yes, lone ones no', () => {
  expect(isWellFormed('a😀b')).toBe(true);
  for (const s of ['\ud800', 'a\udc00', '\udc00\ud800', 'x\ud83d']) expect(isWellFormed(s), JSON.stringify(s)).toBe(false);
});

test('utf8Length counts UTF-8 bytes', () => {
  const cases: [string, number][] = [['', 0], ['abc', 3], ['é', 2], ['€', 3], ['😀', 4], ['a😀é€'.repeat(50), 500]];
  for (const [s, n] of cases) expect(utf8Length(s)).toBe(n);
});

test('object keys: 1-1024 UTF-8 bytes, no control characters, valid Unicode', () => {
  expect(objectKeySchema.safeParse('uploads/a/b c/ü😀.txt').success).toBe(true);
  expect(objectKeySchema.safeParse('é'.repeat(512)).success).toBe(true);
  for (const k of ['', 'é'.repeat(513), 'a\u0000', 'a\nb', 'a\u007f', 'a\ud800']) expect(objectKeySchema.safeParse(k).success, JSON.stringify(k)).toBe(false);
});

test('upload ids are printable ASCII', () => {
  expect(uploadIdSchema.safeParse('01a2-_.~AZaz09+/=').success).toBe(true);
  for (const u of ['', 'a b', 'ü', '\ud800', 'a\r\n']) expect(uploadIdSchema.safeParse(u).success).toBe(false);
});

test('list query: plain digits for limit, base64url for cursor', () => {
  expect(listUploadsQuerySchema.parse({})).toEqual({});
  expect(listUploadsQuerySchema.parse({ limit: '1000', cursor: 'dXBs_-' })).toEqual({ limit: 1000, cursor: 'dXBs_-' });
  for (const limit of ['0', '1001', '-1', '1e2', '0x10', ' 5', '', '1.0']) expect(listUploadsQuerySchema.safeParse({ limit }).success, limit).toBe(false);
  for (const cursor of ['a+b', 'a/b', 'a=', '%23', 'x'.repeat(2049)]) expect(listUploadsQuerySchema.safeParse({ cursor }).success, cursor).toBe(false);
});

test('the codes Node’s HTTP parser needs are in the one table', () => {
  expect([ERROR_STATUS.request_timeout, ERROR_STATUS.headers_too_large]).toEqual([408, 431]);
});
