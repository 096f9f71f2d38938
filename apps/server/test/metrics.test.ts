import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';
import { send } from './http.js';

// /metrics tells anyone who reads it the routes, users' error rates and the process's memory:
// loopback callers only by default, a bearer token, or a listener of its own.

const BUCKET = {
  PORT: '0',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_BUCKET: 'uploads',
  S3_ACCESS_KEY_ID: 'AKID',
  S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
  TOKEN_SECRETS: 't'.repeat(32),
  AUTH_MODE: 'tokens',
  AUTH_TOKENS: 'a-long-static-token-1:alice',
};
const TOKEN = 'metrics-token-0123456789';
/** An address of this machine that is not loopback: a caller from it is "another machine" to the server. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
/** The port from the 'listening' log line: the logger may flush it after the ready line the start waits for. */
async function port(cli: Cli): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /"listen":"[^"]*:(\d+)"/.exec(cli.output());
    if (m) return m[1] as string;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no "listen" log line in:\n${cli.output()}`);
}
const metricsAt = async (cli: Cli, address = '127.0.0.1', headers: Record<string, string> = {}) =>
  send(`http://${address}:${await port(cli)}/metrics`, { host: '127.0.0.1', headers, ...(address === '127.0.0.1' ? {} : { localAddress: address }) });

describe('default: loopback callers only', () => {
  let cli: Cli;
  beforeAll(async () => {
    cli = await startCli({ ...BUCKET, HOST: '0.0.0.0', ALLOWED_HOSTS: '127.0.0.1' });
  });
  afterAll(() => cli.stop());

  test('a direct loopback caller reads it', async () => {
    const a = await metricsAt(cli);
    expect(a.status).toBe(200);
    expect(a.text).toContain('process_resident_memory_bytes');
  });
  test('a proxied request (X-Forwarded-For, Forwarded, X-Real-IP) is not local, whatever it claims', async () => {
    for (const h of [{ 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }, { 'x-real-ip': '127.0.0.1' }]) {
      const a = await metricsAt(cli, '127.0.0.1', h);
      expect([a.status, a.code]).toEqual([403, 'forbidden']);
      expect(JSON.parse(a.text).error.message).toContain('set METRICS_TOKEN or METRICS_PORT');
    }
  });
  test.skipIf(!external)('a caller from another address is refused', async () => {
    const a = await metricsAt(cli, external);
    expect([a.status, a.code]).toEqual([403, 'forbidden']);
  });
});

describe('METRICS_TOKEN', () => {
  let cli: Cli;
  beforeAll(async () => {
    cli = await startCli({ ...BUCKET, HOST: '0.0.0.0', ALLOWED_HOSTS: '127.0.0.1', METRICS_TOKEN: TOKEN });
  });
  afterAll(() => cli.stop());

  test('no bearer or a wrong one: 401 with WWW-Authenticate, also from loopback', async () => {
    for (const h of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }]) {
      const a = await metricsAt(cli, '127.0.0.1', h);
      expect([a.status, a.code]).toEqual([401, 'unauthorized']);
      expect(a.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    }
  });
  test('the token opens it from anywhere; it never reaches the logs', async () => {
    expect((await metricsAt(cli, '127.0.0.1', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    if (external) expect((await metricsAt(cli, external, { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    expect(cli.output()).not.toContain(TOKEN);
  });
});

describe('METRICS_PORT: a listener of its own', () => {
  let cli: Cli;
  let url: string;
  beforeAll(async () => {
    cli = await startCli({ ...BUCKET, METRICS_PORT: '0' });
    url = /"metricsUrl":"([^"]+)"/.exec(cli.output())?.[1] as string;
  });
  afterAll(() => cli.stop());

  test('serves /metrics there, and only there', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const a = await send(url);
    expect(a.status).toBe(200);
    expect(a.text).toContain('process_resident_memory_bytes');
    const main = await send(`${cli.url}/metrics`);
    expect([main.status, main.code]).toEqual([404, 'not_found']);
    expect((await send(url.replace('/metrics', '/healthz'))).code).toBe('not_found');
    expect((await send(url.replace('/metrics', '/api/uploads'))).code).toBe('not_found');
  });
  test('answers IP literals and allowed names, not a rebinding name', async () => {
    expect((await send(url, { host: `127.0.0.1:${new URL(url).port}` })).status).toBe(200);
    expect((await send(url, { host: 'localhost' })).status).toBe(200);
    expect((await send(url, { host: 'evil.example' })).code).toBe('host_not_allowed');
  });
});
