import { randomBytes } from 'node:crypto';
import { createCRC64 } from 'hash-wasm';
import { describe, expect, test } from 'vitest';
import { CRC64NVME_HASH_WASM_POLY, crc64Combine, crc64CombineAll } from './crc64.js';
import { crc64FromBase64, crc64ToBase64 } from './encoding.js';

async function crc(data: Uint8Array): Promise<bigint> {
  const h = await createCRC64(CRC64NVME_HASH_WASM_POLY);
  h.init();
  h.update(data);
  return BigInt(`0x${h.digest('hex')}`);
}

describe('crc64Combine', () => {
  test('check value and published combine vector', async () => {
    expect((await crc(new TextEncoder().encode('123456789'))).toString(16)).toBe('ae8b14860a799888');
    const a = await crc(new TextEncoder().encode('test1'));
    const b = await crc(new TextEncoder().encode('test2'));
    expect(a).toBe(0x7585d198a2d5b287n);
    expect(b).toBe(0xf436c0c0f28b290cn);
    expect(crc64Combine(a, b, 5)).toBe(0x215f4b83b86262f3n);
  });

  test('combined part CRCs equal hash-wasm over the whole buffer', async () => {
    const partSize = 1024 * 1024 + 7;
    const whole = randomBytes(5 * partSize + 12_345);
    const parts: { crc: bigint; size: number }[] = [];
    for (let start = 0; start < whole.length; start += partSize) {
      const slice = whole.subarray(start, Math.min(start + partSize, whole.length));
      parts.push({ crc: await crc(slice), size: slice.length });
    }
    expect(parts.length).toBe(6);
    expect(crc64CombineAll(parts)).toBe(await crc(whole));
  });

  test('edge cases: empty object, empty parts, 1-byte parts', async () => {
    expect(crc64CombineAll([])).toBe(await crc(new Uint8Array(0)));
    const bytes = randomBytes(3);
    const parts = [];
    for (const b of bytes) parts.push({ crc: await crc(Uint8Array.of(b)), size: 1 });
    parts.push({ crc: await crc(new Uint8Array(0)), size: 0 });
    expect(crc64CombineAll(parts)).toBe(await crc(bytes));
  });

  test('base64 round trip keeps leading zero bytes', () => {
    const value = 0x00ff00000000abcdn;
    const b64 = crc64ToBase64(value);
    expect(Buffer.from(b64, 'base64').toString('hex')).toBe('00ff00000000abcd');
    expect(crc64FromBase64(b64)).toBe(value);
  });
});
