import { describe, expect, test } from 'vitest';
import { ChuteError } from './errors.js';
import { TokenSigner } from './token.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof ChuteError ? err.code : String(err);
  }
}

describe('TokenSigner', () => {
  test('round-trips a payload', async () => {
    const s = new TokenSigner([A]);
    const t = await s.sign({ typ: 'upload', exp: 2000, k: 'key' } as never);
    expect(await s.verify(t, 'upload', 1000)).toMatchObject({ k: 'key', exp: 2000 });
  });
  test('rejects a tampered payload or signature', async () => {
    const s = new TokenSigner([A]);
    const t = await s.sign({ typ: 'upload', exp: 2000, k: 'key' } as never);
    const [body, mac] = t.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ typ: 'upload', exp: 2000, k: 'other' })).toString('base64url');
    expect(await code(s.verify(`${forged}.${mac}`, 'upload', 1000))).toBe('invalid_token');
    const flipped = mac.slice(0, -2) + (mac.endsWith('A') ? 'BB' : 'AA');
    expect(await code(s.verify(`${body}.${flipped}`, 'upload', 1000))).toBe('invalid_token');
    for (const junk of ['', '.', 'abc', `${body}.`, `${body}.!!!`, 'x'.repeat(5000)]) {
      expect(await code(s.verify(junk, 'upload', 1000))).toBe('invalid_token');
    }
  });
  test('rejects a token of another kind and an expired token', async () => {
    const s = new TokenSigner([A]);
    const t = await s.sign({ typ: 'uppy', exp: 2000 });
    expect(await code(s.verify(t, 'upload', 1000))).toBe('invalid_token');
    expect(await code(s.verify(t, 'uppy', 2000))).toBe('token_expired');
  });
  test('rotation: old secrets verify, only the first signs', async () => {
    const old = new TokenSigner([A]);
    const rotated = new TokenSigner([B, A]);
    const t = await old.sign({ typ: 'upload', exp: 2000 });
    expect(await code(rotated.verify(t, 'upload', 1))).toBe('ok');
    const t2 = await rotated.sign({ typ: 'upload', exp: 2000 });
    expect(await code(old.verify(t2, 'upload', 1))).toBe('invalid_token');
    expect(await code(new TokenSigner([B]).verify(t2, 'upload', 1))).toBe('ok');
  });
  test('refuses short or missing secrets', () => {
    expect(() => new TokenSigner([])).toThrow();
    expect(() => new TokenSigner(['short'])).toThrow(/32 bytes/);
  });
  test('tokens are HMAC-SHA256 over the base64url payload, as WebCrypto computes it (tokens made before keep working)', async () => {
    const body = btoa(JSON.stringify({ typ: 'upload', exp: 2000, k: 'ü/key' }).replace(/[^\x00-\x7f]/g, (c) => unescape(encodeURIComponent(c))))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(A), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = Buffer.from(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body))).toString('base64url');
    const s = new TokenSigner([A]);
    expect(await s.verify(`${body}.${mac}`, 'upload', 1000)).toMatchObject({ k: 'ü/key' });
    expect(await s.sign({ typ: 'upload', exp: 2000, k: 'ü/key' } as never)).toBe(`${body}.${mac}`);
    // Padding or another alphabet in the MAC is not the same token.
    expect(await code(s.verify(`${body}.${mac}=`, 'upload', 1000))).toBe('invalid_token');
    expect(await code(s.verify(`${body}.${mac.slice(0, -1)}+`, 'upload', 1000))).toBe('invalid_token');
  });
});
