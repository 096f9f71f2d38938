import { SignJWT } from 'jose';
import { expect, test } from 'vitest';
import { startCli } from './cli.js';

const SECRET = 'j'.repeat(40);

test('jwt mode with a real bucket endpoint that is down: 401 without a token, 503 healthz and storage errors, never a crash', async () => {
  const cli = await startCli({
    PORT: '0',
    S3_ENDPOINT: 'http://127.0.0.1:9', // nothing listens there
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: 'AKID',
    S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
    TOKEN_SECRETS: 't'.repeat(32),
    AUTH_MODE: 'jwt',
    JWT_SECRET: SECRET,
    JWT_AUDIENCE: 'chute',
    JWT_ALLOW_ANY_ISSUER: 'true',
  });
  try {
    expect(cli.output()).not.toContain('LOCAL MODE');
    const health = await fetch(`${cli.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([503, { ok: false, bucket: 'unreachable' }]);
    const anon = await fetch(`${cli.url}/api/uploads`);
    expect(anon.status).toBe(401);
    const jwt = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'HS256' }).setAudience('chute').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    const wrongAud = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'HS256' }).setAudience('other').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    expect((await fetch(`${cli.url}/api/uploads`, { headers: { authorization: `Bearer ${wrongAud}` } })).status).toBe(401);
    // Authenticated, and the single PUT is presigned without touching the bucket.
    const single = await fetch(`${cli.url}/api/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a.txt', size: 3, md5: 'kAFQmDzST7DWlj99KOF/cg==' }),
    });
    expect(single.status).toBe(201);
    expect(((await single.json()) as { key: string }).key).toMatch(/^uploads\/carol\//);
    // Calls that need the bucket fail as 503 storage_unavailable.
    const list = await fetch(`${cli.url}/api/uploads`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(list.status).toBe(503);
    expect(((await list.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
    expect(cli.output()).not.toContain(SECRET);
    expect(cli.output()).not.toContain('secret-access-key-value');
    expect(cli.output()).not.toContain(jwt.split('.')[2]);
  } finally {
    expect(await cli.stop()).toBe(0);
  }
});
