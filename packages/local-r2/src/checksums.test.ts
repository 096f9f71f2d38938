import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { combineCrc64Nvme, compositeChecksum, crcCombine, decodeChecksum, digestOf } from './checksums.js';

describe('checksums', () => {
  it('CRC-64/NVME and CRC-32C match their catalogue check values', async () => {
    const check = Buffer.from('123456789');
    expect((await digestOf('CRC64NVME', check)).toString('hex')).toBe('ae8b14860a799888');
    expect((await digestOf('CRC32C', check)).toString('hex')).toBe('e3069283');
    expect((await digestOf('CRC32', check)).toString('hex')).toBe('cbf43926');
  });

  it('combines CRC64NVME of parts into the CRC of the whole (quilt test vectors)', () => {
    const poly = 0x9a6c9329ac4bc9b5n;
    expect(crcCombine(0x7585d198a2d5b287n, 0xf436c0c0f28b290cn, 5, 64, poly).toString(16)).toBe('215f4b83b86262f3');
  });

  it('combined part CRCs equal a single pass over random parts of uneven sizes', async () => {
    const parts = [randomBytes(70_001), randomBytes(1), randomBytes(0), randomBytes(123_457)];
    const whole = await digestOf('CRC64NVME', Buffer.concat(parts));
    const per = await Promise.all(parts.map(async (p) => ({ digest: await digestOf('CRC64NVME', p), size: p.length })));
    expect(combineCrc64Nvme(per).equals(whole)).toBe(true);
    // The same maths for CRC-32, checked against zlib.
    const a = randomBytes(999);
    const b = randomBytes(4097);
    const combined = crcCombine(BigInt(crc32(a)), BigInt(crc32(b)), b.length, 32, 0xedb88320n);
    expect(Number(combined)).toBe(crc32(Buffer.concat([a, b])));
  });

  it('builds composite checksums as base64(H(d1‖…‖dn))-n; R2 multipart ETag example holds', async () => {
    const d1 = createHash('sha256').update('a').digest();
    const d2 = createHash('sha256').update('b').digest();
    const expected = createHash('sha256').update(Buffer.concat([d1, d2])).digest('base64');
    expect(await compositeChecksum('SHA256', [d1, d2])).toBe(`${expected}-2`);
    // R2 docs: parts bce6bf66…e6 + 8165449f…06 → f77dc0eecdebcd774a2a22cb393ad2ff-2
    const md5s = Buffer.from('bce6bf66aeb76c7040fdd5f4eccb78e6' + '8165449fc15bbf43d3b674595cbcc406', 'hex');
    expect(createHash('md5').update(md5s).digest('hex')).toBe('f77dc0eecdebcd774a2a22cb393ad2ff');
  });

  it('rejects malformed checksum values with InvalidDigest', () => {
    expect(() => decodeChecksum('CRC32', 'not base64!')).toThrow(expect.objectContaining({ code: 'InvalidDigest' }));
    expect(() => decodeChecksum('SHA256', Buffer.alloc(20).toString('base64'))).toThrow(expect.objectContaining({ code: 'InvalidDigest' }));
    expect(decodeChecksum('CRC32', 'AAAAAA==').length).toBe(4);
  });
});
