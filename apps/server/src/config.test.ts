import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
};
const R2 = {
  R2_ACCOUNT_ID: '0123456789abcdef0123456789abcdef',
  S3_BUCKET: 'uploads',
  S3_ACCESS_KEY_ID: 'AKID',
  S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
  TOKEN_SECRETS: 'x'.repeat(32),
  AUTH_MODE: 'tokens',
  AUTH_TOKENS: 'a-long-static-token-1:alice',
};

describe('loadConfig', () => {
  test('an empty environment is local mode, open auth, 127.0.0.1:8787', () => {
    const c = loadConfig({});
    expect([c.host, c.port, c.bucket, c.auth.mode]).toEqual(['127.0.0.1', 8787, undefined, 'open']);
  });
  test('R2 account id → endpoint; virtual-hosted by default; jurisdiction', () => {
    const c = loadConfig(R2);
    expect(c.bucket).toMatchObject({ endpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com', region: 'auto', bucket: 'uploads', forcePathStyle: false });
    expect(c.auth).toEqual({ mode: 'tokens', tokens: { 'a-long-static-token-1': 'alice' } });
    expect(loadConfig({ ...R2, R2_JURISDICTION: 'eu' }).bucket?.endpoint).toBe('https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com');
    expect(c.secrets).toEqual(expect.arrayContaining(['secret-access-key-value', 'x'.repeat(32), 'a-long-static-token-1']));
  });
  test('any S3 endpoint is path-style by default', () => {
    const c = loadConfig({ ...R2, R2_ACCOUNT_ID: '', S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(c.bucket).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  });
  test('lists every problem at once, in words', () => {
    expect(problems({ PORT: 'eighty', R2_ACCOUNT_ID: 'nope', MAX_FILE_SIZE: '-1' })).toEqual([
      expect.stringContaining('PORT'),
      expect.stringContaining('R2_ACCOUNT_ID: must be the 32 hex digits'),
      expect.stringContaining('MAX_FILE_SIZE'),
    ]);
    expect(problems({ S3_BUCKET: 'uploads' })).toEqual([
      expect.stringContaining('also set R2_ACCOUNT_ID'),
      expect.stringContaining('S3_ACCESS_KEY_ID'),
      expect.stringContaining('S3_SECRET_ACCESS_KEY'),
      expect.stringContaining('TOKEN_SECRETS is required'),
      expect.stringContaining('AUTH_MODE is required'),
    ]);
    expect(problems({ ...R2, TOKEN_SECRETS: 'short' })).toEqual([expect.stringContaining('at least 32 characters')]);
    expect(problems({ ...R2, AUTH_TOKENS: 'short:bob' })).toEqual([expect.stringContaining('token:userId'), expect.stringContaining('needs AUTH_TOKENS')]);
    expect(problems({ ...R2, AUTH_MODE: 'jwt' })).toEqual([expect.stringContaining('exactly one of JWT_SECRET or JWT_JWKS_URL')]);
    expect(problems({ S3_ENDPOINT: 'http://x:9000' })).toEqual([expect.stringContaining('partly configured')]);
  });
  test('open mode refuses a non-loopback host', () => {
    expect(problems({ HOST: '0.0.0.0' })).toEqual([expect.stringContaining('AUTH_MODE=open only binds to loopback')]);
    expect(loadConfig({ HOST: '::1' }).auth.mode).toBe('open');
  });
  test('lists and booleans', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', REQUIRE_MD5: 'false', ALLOWED_CONTENT_TYPES: 'image/*,application/pdf' });
    expect(c.env.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(c.env.REQUIRE_MD5).toBe(false);
    expect(c.env.ALLOWED_CONTENT_TYPES).toEqual(['image/*', 'application/pdf']);
  });
});
