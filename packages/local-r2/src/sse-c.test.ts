import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptorAt, encryptor, keyMatches, verifierFor } from './sse-c.js';

describe('SSE-C primitives', () => {
  it('decrypts from any offset, including across the 128-bit counter wrap', () => {
    const key = randomBytes(32);
    const plain = randomBytes(4099);
    for (const id of [randomBytes(16).toString('hex'), `${'f'.repeat(30)}fd`]) {
      const cipher = encryptor(key, id).update(plain);
      expect(cipher.length).toBe(plain.length);
      expect(cipher.subarray(0, 64).equals(plain.subarray(0, 64))).toBe(false);
      for (const from of [0, 1, 15, 16, 17, 47, 48, 4000, 4098]) {
        const aligned = from - (from % 16);
        const out = decryptorAt(key, id, aligned).update(cipher.subarray(aligned)).subarray(from - aligned);
        expect(out.equals(plain.subarray(from)), `${id} @${from}`).toBe(true);
      }
    }
  });

  it('keeps only a salted HMAC of the key: different every time, recognises the key and only it', () => {
    const k = { key: randomBytes(32), md5: '' };
    const a = verifierFor(k);
    const b = verifierFor(k);
    expect(a).not.toBe(b);
    expect(a.includes(k.key.toString('hex'))).toBe(false);
    expect(keyMatches(a, k) && keyMatches(b, k)).toBe(true);
    expect(keyMatches(a, { key: randomBytes(32), md5: '' })).toBe(false);
    expect(keyMatches('garbage', k)).toBe(false);
  });
});
