// Holes 4, 5, 8, 9 and 13 (metrics): each mode refuses to run where it must not, checks Host,
// trusts only configured proxy hops, demands well-formed JWTs, and drops slow clients.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe } from 'vitest';
import { type Env, JWT, MAIN_LIMITS } from '../lib/env.js';
import { api, raw, stall } from '../lib/http.js';
import { bucketEnv, JWT_SECRET, refusedStart } from '../lib/servers.js';
import { attack, refusedWith } from '../lib/suite.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'chute-security-local-'));

export function modeCases(env: () => Env): void {
  describe('4. local and dev modes on a public interface', () => {
    attack('4', 'local mode (published local-r2 keys) with AUTH_MODE=tokens on HOST=0.0.0.0', async () => {
      const r = await refusedStart({ HOST: '0.0.0.0', PORT: '0', DATA_DIR: tmp(), AUTH_MODE: 'tokens', AUTH_TOKENS: 'tok-0123456789abcdef:alice', ALLOWED_HOSTS: 'uploads.example.com' });
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
    attack('4', 'open dev mode on HOST=0.0.0.0', async () => {
      const r = await refusedStart({ HOST: '0.0.0.0', PORT: '0', DATA_DIR: tmp(), AUTH_MODE: 'open' });
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
    attack('4', 'a real bucket on HOST=0.0.0.0 with no PUBLIC_URL or ALLOWED_HOSTS (any Host would be served)', async () => {
      const r = await refusedStart(bucketEnv(env().store, { HOST: '0.0.0.0' }));
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
    const rebinding: [string, () => string, string][] = [
      ['the open-mode signer API', () => `${env().local.url}/api/uploads`, 'GET'],
      ['the open-mode health check', () => `${env().local.url}/healthz`, 'GET'],
      ['the tokens-mode signer API', () => `${env().main.url}/api/uploads`, 'GET'],
      ['the embedded local-r2 (bucket listing)', () => `${env().localR2Url}/chute?list-type=2`, 'GET'],
      ['the embedded local-r2 (CORS preflight)', () => `${env().localR2Url}/chute/x`, 'OPTIONS'],
      ['the standalone local-r2', () => `${env().store.r2.url}/security?list-type=2`, 'GET'],
    ];
    for (const [what, url, method] of rebinding) {
      attack('4', `DNS rebinding: Host: evil.example on ${what}`, async () =>
        refusedWith(await raw(url(), { method, host: 'evil.example', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } }), [403, 421]),
      );
    }
  });

  describe('5. forged X-Forwarded-For', () => {
    attack('5', 'TRUST_PROXY=true (trust every hop) is refused at start', async () => {
      const r = await refusedStart(bucketEnv(env().store, { TRUST_PROXY: 'true' }));
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
    attack('5', 'open dev mode behind a proxy (TRUST_PROXY=1) is refused at start', async () => {
      const r = await refusedStart({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: tmp(), AUTH_MODE: 'open', TRUST_PROXY: '1' });
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
    attack('5', 'rotating forged X-Forwarded-For through one trusted hop does not escape the per-IP limit', async () => {
      let limited = 0;
      for (let i = 0; i < 40; i++) {
        const a = await raw(`${env().proxyUrl}/api/uploads`, { headers: { 'x-forwarded-for': `127.0.0.${(i % 250) + 1}` } });
        if (a.status === 429) limited++;
      }
      return { answer: `${limited} of 40 answered 429`, refused: limited > 0 };
    });
  });

  describe('8. JWTs', () => {
    const key = new TextEncoder().encode(JWT_SECRET);
    const call = async (jwt: string) => refusedWith(await api(env().jwt.url, 'GET', '/api/uploads', { authorization: `Bearer ${jwt}` }), 401, 'unauthorized');
    const good = () => new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'HS256' }).setAudience(JWT.audience).setIssuer(JWT.issuer).setIssuedAt();
    attack('8', 'a JWT without exp', async () => call(await good().sign(key)));
    attack('8', 'a JWT that expires in ten years', async () => call(await good().setExpirationTime('3650d').sign(key)));
    attack('8', 'a JWT that expired an hour ago', async () => call(await good().setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(key)));
    attack('8', 'a JWT for another audience', async () => call(await good().setAudience('other-app').setExpirationTime('5m').sign(key)));
    attack('8', 'a JWT from another issuer', async () => call(await good().setIssuer('https://evil.example').setExpirationTime('5m').sign(key)));
    attack('8', 'an unsigned JWT (alg: none)', async () => call(new UnsecuredJWT({ sub: 'mallory', aud: JWT.audience, iss: JWT.issuer }).setIssuedAt().setExpirationTime('5m').encode()));
    attack('8', 'a JWT signed with another secret', async () => call(await good().setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(40)))));
    attack('8', 'AUTH_MODE=jwt without JWT_AUDIENCE/JWT_ISSUER is refused at start', async () => {
      const r = await refusedStart(bucketEnv(env().store, { AUTH_MODE: 'jwt', JWT_SECRET }));
      return { answer: `exit ${r.code}`, refused: r.code === 2 };
    }, 40_000);
  });

  describe('9. slow clients', () => {
    attack('9', 'signer: headers trickled and never finished (slowloris)', async () => {
      const r = await stall(env().main.url, 'GET /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', Number(MAIN_LIMITS.HTTP_HEADERS_TIMEOUT_MS) + 10_000);
      return { answer: `connection ${r.ended}${r.answer ? `: ${r.answer.split('\r\n')[0]}` : ''}`, refused: r.ended === 'closed' };
    }, 30_000);
    attack('9', 'signer: a body that stops half-way', async () => {
      const r = await stall(env().main.url, 'POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":', Number(MAIN_LIMITS.HTTP_REQUEST_TIMEOUT_MS) + 10_000);
      return { answer: `connection ${r.ended}${r.answer ? `: ${r.answer.split('\r\n')[0]}` : ''}`, refused: r.ended === 'closed' };
    }, 30_000);
    attack('9', 'local-r2: headers trickled and never finished', async () => {
      const r = await stall(env().store.r2.url, 'GET /security HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 30_000);
      return { answer: `connection ${r.ended}`, refused: r.ended === 'closed' };
    }, 40_000);
  });

  describe('13. metrics', () => {
    attack('13', '/metrics without the METRICS_TOKEN', async () => refusedWith(await raw(`${env().main.url}/metrics`), [401, 403]));
    attack('13', '/metrics with a wrong bearer', async () => refusedWith(await raw(`${env().main.url}/metrics`, { headers: { authorization: 'Bearer wrong' } }), [401, 403]));
  });
}
