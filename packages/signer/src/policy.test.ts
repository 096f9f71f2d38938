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
  test('wildcards never admit types a browser runs as script; an exact entry does', () => {
    const code = (type: string, allowed: string[]) => {
      try {
        checkContentType(type, { ...DEFAULT_LIMITS, allowedContentTypes: allowed });
        return 'allowed';
      } catch (err) {
        return (err as ChuteError).code;
      }
    };
    expect(code('image/svg+xml', ['image/*'])).toBe('content_type_not_allowed');
    expect(code('text/html', ['*'])).toBe('content_type_not_allowed');
    expect(code('application/xhtml+xml', ['application/*'])).toBe('content_type_not_allowed');
    expect(code('image/svg+xml', ['image/*', 'image/svg+xml'])).toBe('allowed');
    expect(code('image/png', ['*'])).toBe('allowed');
  });
});

describe('object keys', () => {
  test('a key over 1,024 UTF-8 bytes is refused with key_too_long, not sent to the bucket', () => {
    const prefix = `uploads/${encodeURIComponent('é'.repeat(200))}/`;
    try {
      newObjectKey(prefix, 'a.bin');
      expect.unreachable();
    } catch (err) {
      expect([(err as ChuteError).code, (err as ChuteError).status]).toEqual(['key_too_long', 400]);
      expect((err as ChuteError).message).toMatch(/user id/);
    }
    expect(new TextEncoder().encode(newObjectKey('uploads/bob/', 'x'.repeat(1000))).length).toBeLessThanOrEqual(1024);
  });
});
