import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';
import { send, startProxy } from './http.js';

// One real proxy hop in front of chute-server with TRUST_PROXY=1. The proxy appends the address
// it sees (203.0.113.9); whatever the client forged stays to its left and must not be believed.

const CLIENT = '203.0.113.9';
let cli: Cli;
let proxy: Awaited<ReturnType<typeof startProxy>>;
beforeAll(async () => {
  cli = await startCli({
    PORT: '0',
    S3_ENDPOINT: 'http://127.0.0.1:9',
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: 'AKID',
    S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
    TOKEN_SECRETS: 't'.repeat(32),
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: 'a-long-static-token-1:alice',
    TRUST_PROXY: '1',
    // 5 per user and 10 per IP, refilled far slower than the test runs.
    RATE_LIMIT_CAPACITY: '5',
    RATE_LIMIT_PER_SECOND: '0.01',
  });
  proxy = await startProxy(cli.url, CLIENT);
});
afterAll(async () => {
  await proxy.close();
  await cli.stop();
});

test('rotating forged X-Forwarded-For through the proxy does not escape the per-IP limit; it keys on the proxy’s view', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) {
    // No credentials: the per-IP budget is taken before authentication.
    const a = await send(`${proxy.url}/api/uploads`, { headers: { 'x-forwarded-for': `127.0.0.${(i % 200) + 1}, 10.1.2.${i}` } });
    statuses.push(a.status);
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual(Array(20).fill(429));
  // The same client without any forged header is the same key: still limited.
  expect((await send(`${proxy.url}/api/uploads`)).status).toBe(429);
  // A caller reaching the server directly (another address) has its own budget.
  expect((await send(`${cli.url}/api/uploads`)).status).toBe(401);
});

test('a forged X-Forwarded-For: 127.0.0.1 through the proxy does not make the caller local (/metrics)', async () => {
  const a = await send(`${proxy.url}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
  expect([a.status, a.code]).toEqual([403, 'forbidden']);
  expect((await send(`${cli.url}/metrics`)).status).toBe(200);
});
