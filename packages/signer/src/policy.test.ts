import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS } from './config.js';
import { ChuteError } from './errors.js';
import { assertOwnKey, checkContentType, checkIdentity, defaultUserPrefix, newObjectKey, normalizeContentType, safeFileName } from './policy.js';

describe('safeFileName', () => {
  test('keeps only the last path segment', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\x\\photo.jpg')).toBe('photo.jpg');
    expect(safeFileName('dir/')).toBe('file');
  });
  test('keeps unicode letters, replaces the rest', () => {
    expect(safeFileName('Ünïcødé 写真.png')).toBe('Ünïcødé 写真.png');
    expect(safeFileName('a<b>c?*|"\u0000.txt')).toBe('a_b_c_.txt');
    expect(safeFileName('..')).toBe('file');
    expect(safeFileName('.hidden')).toBe('hidden');
  });
  test('caps the length at 200 UTF-8 bytes', () => {
    expect(new TextEncoder().encode(safeFileName('é'.repeat(500))).length).toBeLessThanOrEqual(200);
  });
});

describe('keys', () => {
  test('user ids are encoded so a prefix never contains another user', () => {
    expect(defaultUserPrefix({ userId: 'a/b' })).toBe('uploads/a%2Fb/');
    expect(defaultUserPrefix({ userId: 'alice' })).toBe('uploads/alice/');
  });
  test('new keys live under the prefix', () => {
    const k = newObjectKey('uploads/alice/', '../x.txt');
    expect(k).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\/x\.txt$/);
  });
  test('assertOwnKey', () => {
    expect(() => assertOwnKey('uploads/alice/x', 'uploads/alice/')).not.toThrow();
    for (const k of ['uploads/bob/x', 'uploads/alice', 'uploads/alice/', 'uploads/alicex/y', 'x/uploads/alice/y']) {
      expect(() => assertOwnKey(k, 'uploads/alice/')).toThrow(ChuteError);
    }
  });
  test('checkIdentity refuses unusable ids', () => {
    for (const userId of ['', '.', '..', 'x'.repeat(300), 'a\ud800', '\udc00']) expect(() => checkIdentity({ userId })).toThrow(ChuteError);
  });
});

describe('content types', () => {
  test('normalises and validates', () => {
    expect(normalizeContentType('')).toBe('application/octet-stream');
    expect(normalizeContentType('Image/PNG; charset=x')).toBe('image/png');
    expect(() => normalizeContentType('not a type')).toThrow(ChuteError);
  });
  test('patterns', () => {
    const limits = { ...DEFAULT_LIMITS, allowedContentTypes: ['image/*', 'application/pdf'] };
    expect(() => checkContentType('image/png', limits)).not.toThrow();
    expect(() => checkContentType('application/pdf', limits)).not.toThrow();
    try {
      checkContentType('text/html', limits);
      expect.unreachable();
    } catch (err) {
      expect((err as ChuteError).code).toBe('content_type_not_allowed');
    }
  });
});
