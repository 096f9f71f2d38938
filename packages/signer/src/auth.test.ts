import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bearerTokens, isLoopback, jwtAuth, openDevAuth } from './auth.js';
import { ChuteError } from './errors.js';

const req = (auth?: string) => new Request('http://x/api', auth ? { headers: { authorization: auth } } : {});
const SECRET = 's'.repeat(40);

describe('bearerTokens', () => {
  const auth = bearerTokens({ 'tok-alice-123': 'alice', 'tok-bob-456': 'bob' });
  test('maps tokens to users', async () => {
    expect(await auth(req('Bearer tok-alice-123'), {})).toEqual({ userId: 'alice' });
    expect(await auth(req('bearer tok-bob-456'), {})).toEqual({ userId: 'bob' });
  });
  test('unknown, missing or malformed credentials are null', async () => {
    for (const h of [undefined, 'Bearer nope', 'Basic dG9rLWFsaWNlLTEyMw==', 'Bearer', 'tok-alice-123']) {
      expect(await auth(req(h), {})).toBeNull();
    }
  });
});

describe('jwtAuth HS256', () => {
  const auth = jwtAuth({ secret: SECRET, issuer: 'https://idp.test', audience: 'chute' });
  const sign = (claims: Record<string, unknown>, secret = SECRET) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.test')
      .setAudience('chute')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
  test('accepts a valid token', async () => {
    expect(await auth(req(`Bearer ${await sign({ sub: 'alice' })}`), {})).toEqual({ userId: 'alice' });
  });
  test('rejects wrong secret, wrong audience, expired, no sub', async () => {
    expect(await auth(req(`Bearer ${await sign({ sub: 'a' }, 'x'.repeat(40))}`), {})).toBeNull();
    const wrongAud = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.test')
      .setAudience('other')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await auth(req(`Bearer ${wrongAud}`), {})).toBeNull();
    const expired = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.test')
      .setAudience('chute')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    expect(await auth(req(`Bearer ${expired}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await sign({})}`), {})).toBeNull();
    expect(await auth(req('Bearer not.a.jwt'), {})).toBeNull();
  });
  test('refuses alg none', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a","iss":"https://idp.test","aud":"chute"}').toString('base64url')}.`;
    expect(await auth(req(`Bearer ${none}`), {})).toBeNull();
  });
  const claims = (c: Record<string, unknown>) =>
    new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const base = { sub: 'a', iss: 'https://idp.test', aud: 'chute' };
  const now = () => Math.floor(Date.now() / 1000);
  test('a token without exp is refused (it would be valid forever)', async () => {
    expect(await auth(req(`Bearer ${await claims({ ...base, iat: now() })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ ...base, iat: now(), exp: now() + 60 })}`), {})).toEqual({ userId: 'a' });
  });
  test('a token living longer than maxTokenAgeSeconds (24 h) is refused, with or without iat; iat in the future too', async () => {
    expect(await auth(req(`Bearer ${await claims({ ...base, exp: now() + 2 * 86_400 })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ ...base, iat: now(), exp: now() + 2 * 86_400 })}`), {})).toBeNull();
    // Issued 23 h ago, valid 2 h more: a 25-h token.
    expect(await auth(req(`Bearer ${await claims({ ...base, iat: now() - 23 * 3600, exp: now() + 2 * 3600 })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ ...base, iat: now() + 86_400, exp: now() + 86_400 + 60 })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ ...base, exp: now() + 23 * 3600 })}`), {})).toEqual({ userId: 'a' });
    const short = jwtAuth({ secret: SECRET, issuer: 'https://idp.test', audience: 'chute', maxTokenAgeSeconds: 600 });
    expect(await short(req(`Bearer ${await claims({ ...base, iat: now(), exp: now() + 3600 })}`), {})).toBeNull();
  });
  test('wrong or missing issuer and audience are refused', async () => {
    const exp = now() + 60;
    expect(await auth(req(`Bearer ${await claims({ ...base, exp, iss: 'https://evil.test' })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ sub: 'a', aud: 'chute', exp })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ ...base, exp, aud: 'other' })}`), {})).toBeNull();
    expect(await auth(req(`Bearer ${await claims({ sub: 'a', iss: 'https://idp.test', exp })}`), {})).toBeNull();
  });
  test('needs exactly one key source and a long secret', () => {
    expect(() => jwtAuth({})).toThrow();
    expect(() => jwtAuth({ secret: 'short' })).toThrow(/32 bytes/);
  });
});

describe('jwtAuth with a JWKS served on loopback', () => {
  let server: Server;
  let url: string;
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  let other: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey as CryptoKey;
    publicKey = pair.publicKey as CryptoKey;
    other = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (key: CryptoKey, sub: string) =>
    new SignJWT({ sub }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(key);

  test('accepts a token signed by a published key, rejects another key', async () => {
    const auth = jwtAuth({ jwksUrl: url });
    expect(await auth(req(`Bearer ${await sign(privateKey, 'carol')}`), {})).toEqual({ userId: 'carol' });
    expect(await auth(req(`Bearer ${await sign(other, 'mallory')}`), {})).toBeNull();
  });
  test('a token without exp is refused with a JWKS key too', async () => {
    const auth = jwtAuth({ jwksUrl: url });
    const noExp = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
    expect(await auth(req(`Bearer ${noExp}`), {})).toBeNull();
  });
  test('algorithm confusion: HS256 signed with the published public key as the secret is refused', async () => {
    const auth = jwtAuth({ jwksUrl: url });
    const jwk = await exportJWK(publicKey);
    for (const secret of [JSON.stringify(jwk), `${jwk.x}${jwk.y}`, Buffer.from(JSON.stringify({ keys: [jwk] })).toString()]) {
      const forged = await new SignJWT({ sub: 'mallory' })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      expect(await auth(req(`Bearer ${forged}`), {})).toBeNull();
    }
    const none = `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')}.`;
    expect(await auth(req(`Bearer ${none}`), {})).toBeNull();
  });
  test('an unreachable JWKS is auth_unavailable, not a 401 or a crash', async () => {
    const auth = jwtAuth({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const err = await Promise.resolve(auth(req(`Bearer ${await sign(privateKey, 'carol')}`), {})).catch((e) => e);
    expect(err).toBeInstanceOf(ChuteError);
    expect((err as ChuteError).code).toBe('auth_unavailable');
  });
});

describe('openDevAuth', () => {
  test('serves loopback only', async () => {
    const auth = openDevAuth();
    expect(await auth(req(), { ip: '127.0.0.1' })).toEqual({ userId: 'dev' });
    expect(await auth(req(), { ip: '::ffff:127.0.0.1' })).toEqual({ userId: 'dev' });
    expect(() => auth(req(), { ip: '10.0.0.2' })).toThrow(ChuteError);
    expect(() => auth(req(), {})).toThrow(ChuteError);
  });
  test('isLoopback', () => {
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('127.8.9.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});
