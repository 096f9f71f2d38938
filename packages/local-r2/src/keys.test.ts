import { describe, expect, it } from 'vitest';
import { NO_END, prefixEnd, validBucketName } from './keys.js';

describe('keys', () => {
  it('prefixEnd is the first string after every key with that prefix (UTF-8 order)', () => {
    expect(prefixEnd('a/')).toBe('a0');
    expect(prefixEnd('')).toBe(NO_END);
    // Astral characters are one code point, not two UTF-16 units.
    expect(prefixEnd('x😀')).toBe('x😁');
    // U+D7FF + 1 skips the surrogate block.
    expect(prefixEnd('\u{D7FF}')).toBe('\u{E000}');
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    const keys = ['a/', 'a/😀', 'a/\u{10FFFF}x', 'a0'];
    const enc = (s: string) => Buffer.from(s, 'utf8');
    for (const k of keys.slice(0, 3)) expect(Buffer.compare(enc(k), enc(prefixEnd('a/') as string))).toBe(-1);
  });

  it('validates bucket names as R2 does', () => {
    for (const ok of ['abc', 'my-bucket-1', 'a'.repeat(63)]) expect(validBucketName(ok)).toBe(true);
    for (const bad of ['ab', 'a'.repeat(64), 'Abc', 'a_b', 'a.b', '-ab', 'ab-', '']) expect(validBucketName(bad)).toBe(false);
  });
});
