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
    expect(problems({ ...R2, AUTH_MODE: 'jwt', JWT_AUDIENCE: 'chute', JWT_ISSUER: 'https://idp' })).toEqual([expect.stringContaining('exactly one of JWT_SECRET or JWT_JWKS_URL')]);
    expect(problems({ S3_ENDPOINT: 'http://x:9000' })).toEqual([expect.stringContaining('partly configured')]);
  });
  test('jwt mode needs an audience and an issuer unless any is allowed explicitly', () => {
    const jwt = { ...R2, AUTH_MODE: 'jwt', JWT_SECRET: 'j'.repeat(32) };
    expect(problems(jwt)).toEqual([
      expect.stringContaining('needs JWT_AUDIENCE (the aud your identity provider puts in tokens for this service), or JWT_ALLOW_ANY_AUDIENCE=true'),
      expect.stringContaining('needs JWT_ISSUER (the iss of your identity provider), or JWT_ALLOW_ANY_ISSUER=true'),
    ]);
    expect(problems({ ...jwt, JWT_AUDIENCE: 'chute' })).toEqual([expect.stringContaining('JWT_ISSUER')]);
    const c = loadConfig({ ...jwt, JWT_ALLOW_ANY_AUDIENCE: 'true', JWT_ALLOW_ANY_ISSUER: 'true', JWT_MAX_TOKEN_AGE_SECONDS: '600' });
    expect(c.auth).toEqual({ mode: 'jwt', secret: 'j'.repeat(32), userClaim: 'sub', maxTokenAgeSeconds: 600 });
    expect(loadConfig({ ...jwt, JWT_AUDIENCE: 'chute', JWT_ISSUER: 'https://idp' }).auth).toMatchObject({ audience: 'chute', issuer: 'https://idp' });
  });
  test('quotas and REDIS_URL; its password is kept out of logs', () => {
    const c = loadConfig({ REDIS_URL: 'redis://:p%40ss-word@127.0.0.1:6379/0', MAX_OPEN_UPLOADS: '3', MAX_BYTES_PER_DAY: '1000' });
    expect([c.env.REDIS_URL, c.env.MAX_OPEN_UPLOADS, c.env.MAX_BYTES_PER_DAY]).toEqual(['redis://:p%40ss-word@127.0.0.1:6379/0', 3, 1000]);
    expect(c.secrets).toContain('p@ss-word');
    expect(problems({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual([expect.stringContaining('REDIS_URL: must be a redis:// or rediss:// URL')]);
    expect(problems({ MAX_OPEN_UPLOADS: '-1' })).toEqual([expect.stringContaining('MAX_OPEN_UPLOADS')]);
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
