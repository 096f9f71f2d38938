import { describe, expect, test } from 'vitest';
import { signedTarget } from './send.js';

const url = (expires: number) =>
  `https://bucket.example/k?X-Amz-Date=20261125T120000Z&X-Amz-Expires=${expires}&X-Amz-Signature=abc&partNumber=1`;

describe('signedTarget', () => {
  const serverNow = Date.parse('2026-11-25T12:00:00Z');
  const expiresAt = new Date(serverNow + 900_000).toISOString();

  test('lifetime comes from X-Amz-Expires, so a client clock 20 min ahead still uses the URL', () => {
    const clientNow = serverNow + 20 * 60_000;
    const t = signedTarget(url(900), {}, expiresAt, clientNow, 30_000);
    expect(t.expiresAtMs).toBe(clientNow + 900_000);
    expect(t.staleAtMs).toBe(clientNow + 870_000);
  });

  test('a client clock 20 min behind does not keep the URL past its real lifetime', () => {
    const clientNow = serverNow - 20 * 60_000;
    expect(signedTarget(url(900), {}, expiresAt, clientNow, 30_000).expiresAtMs).toBe(clientNow + 900_000);
  });

  test('the margin is at most half the lifetime (short URLs are still used)', () => {
    expect(signedTarget(url(2), {}, expiresAt, 0, 30_000)).toMatchObject({ expiresAtMs: 2000, staleAtMs: 1000 });
  });

  test('without X-Amz-Expires the signer expiresAt is used', () => {
    const t = signedTarget('fake://x', {}, expiresAt, serverNow, 30_000);
    expect(t.expiresAtMs).toBe(serverNow + 900_000);
  });
});
