import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { runCli } from './cli.js';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
};
const BUCKET = {
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_BUCKET: 'uploads',
  S3_ACCESS_KEY_ID: 'AKID',
  S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
  TOKEN_SECRETS: 't'.repeat(32),
  AUTH_MODE: 'tokens',
  AUTH_TOKENS: 'a-long-static-token-1:alice',
};
const TOKENS = { AUTH_MODE: 'tokens', AUTH_TOKENS: 'a-long-static-token-1:alice' };
const KEYS = { LOCAL_R2_ACCESS_KEY_ID: 'my-local-key', LOCAL_R2_SECRET_ACCESS_KEY: 's'.repeat(40) };

describe('local mode on a public interface', () => {
  test('refused with the published dev keys, whatever the auth mode', () => {
    for (const auth of [TOKENS, { AUTH_MODE: 'jwt', JWT_SECRET: 'j'.repeat(40), JWT_AUDIENCE: 'a', JWT_ISSUER: 'i' }]) {
      expect(problems({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'uploads.test', ...auth })).toEqual([
        expect.stringContaining('local mode on HOST=0.0.0.0: the embedded local-r2 would listen there with its published dev keys (local-r2-access-key-id)'),
      ]);
    }
  });
  test('refused when LOCAL_R2_* are the published keys, half set, or the secret is short', () => {
    expect(problems({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'uploads.test', ...TOKENS, LOCAL_R2_ACCESS_KEY_ID: 'local-r2-access-key-id', LOCAL_R2_SECRET_ACCESS_KEY: 's'.repeat(40) })).toEqual([
      expect.stringContaining('published dev keys; choose your own'),
    ]);
    expect(problems({ ...TOKENS, LOCAL_R2_ACCESS_KEY_ID: 'my-local-key' })).toEqual([expect.stringContaining('go together')]);
    expect(problems({ ...KEYS, LOCAL_R2_SECRET_ACCESS_KEY: 'short' })).toEqual([expect.stringContaining('LOCAL_R2_SECRET_ACCESS_KEY: must be at least 32 characters')]);
  });
  test('allowed with own keys; they are kept out of logs', () => {
    const c = loadConfig({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'uploads.test', ...TOKENS, ...KEYS });
    expect(c.exposure.localR2Credentials).toEqual({ accessKeyId: 'my-local-key', secretAccessKey: 's'.repeat(40) });
    expect(c.secrets).toContain('s'.repeat(40));
  });
  test('open mode stays loopback only, with one sentence that says so', () => {
    expect(problems({ HOST: '0.0.0.0' })).toEqual([expect.stringContaining('AUTH_MODE=open only binds to loopback, but HOST is 0.0.0.0')]);
    expect(problems({ HOST: '192.0.2.10', ...KEYS, ALLOWED_HOSTS: 'x.test' })).toEqual([expect.stringContaining('AUTH_MODE=open only binds to loopback')]);
  });
});

describe('ALLOWED_HOSTS', () => {
  test('default on loopback: the loopback names (plus the PUBLIC_URL host)', () => {
    expect(loadConfig({}).exposure.allowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(loadConfig({ PUBLIC_URL: 'https://Uploads.Example.com:8443/' }).exposure.allowedHosts).toEqual(['uploads.example.com:8443', 'localhost', '127.0.0.1', '[::1]']);
  });
  test('a public HOST needs PUBLIC_URL or ALLOWED_HOSTS; loopback names are then not added', () => {
    expect(problems({ ...BUCKET, HOST: '0.0.0.0' })).toEqual([expect.stringContaining('HOST is 0.0.0.0, reachable from other machines: set PUBLIC_URL')]);
    expect(loadConfig({ ...BUCKET, HOST: '0.0.0.0', PUBLIC_URL: 'https://uploads.example.com' }).exposure.allowedHosts).toEqual(['uploads.example.com']);
    expect(loadConfig({ ...BUCKET, HOST: '::', ALLOWED_HOSTS: 'a.example.com, *.b.example.com' }).exposure.allowedHosts).toEqual(['a.example.com', '*.b.example.com']);
  });
  test('entries that are no host name are refused', () => {
    expect(problems({ ALLOWED_HOSTS: 'a.example.com,http://b.example.com/x' })).toEqual([expect.stringContaining("ALLOWED_HOSTS: 'http://b.example.com/x' is not a host name")]);
  });
});

describe('TRUST_PROXY', () => {
  test('a hop count or the proxies’ addresses go to Express as they are', () => {
    expect(loadConfig({ ...BUCKET, TRUST_PROXY: '1' }).exposure.trustProxy).toBe(1);
    expect(loadConfig({ ...BUCKET, TRUST_PROXY: '10.0.0.0/8, loopback,fd00::/8,192.0.2.7' }).exposure.trustProxy).toEqual(['10.0.0.0/8', 'loopback', 'fd00::/8', '192.0.2.7']);
    expect(loadConfig({ ...BUCKET, TRUST_PROXY: 'false' }).exposure.trustProxy).toBe(false);
    expect(loadConfig(BUCKET).exposure.trustProxy).toBe(false);
  });
  test('true (trust every hop) is refused with the choice explained; so are garbage subnets', () => {
    expect(problems({ ...BUCKET, TRUST_PROXY: 'true' })).toEqual([
      expect.stringContaining('TRUST_PROXY=true would trust every X-Forwarded-For hop, so any client could choose its own address: set the number of proxies'),
    ]);
    expect(problems({ ...BUCKET, TRUST_PROXY: '10.0.0.0/33,proxy.example' })).toEqual([expect.stringContaining("'10.0.0.0/33'"), expect.stringContaining("'proxy.example'")]);
  });
  test('open dev mode refuses any proxy', () => {
    expect(problems({ TRUST_PROXY: '1' })).toEqual([expect.stringContaining('AUTH_MODE=open serves loopback callers only and must never be reached through a proxy')]);
    expect(problems({ TRUST_PROXY: 'loopback' })).toHaveLength(1);
  });
});

describe('metrics and timeouts', () => {
  test('METRICS_TOKEN is a secret of at least 16 characters; METRICS_HOST needs METRICS_PORT', () => {
    const c = loadConfig({ METRICS_TOKEN: 'm'.repeat(20), METRICS_PORT: '0' });
    expect(c.exposure.metrics).toEqual({ token: 'm'.repeat(20), listen: { host: '127.0.0.1', port: 0 } });
    expect(c.secrets).toContain('m'.repeat(20));
    expect(problems({ METRICS_TOKEN: 'short' })).toEqual([expect.stringContaining('METRICS_TOKEN: must be at least 16 characters')]);
    expect(problems({ METRICS_HOST: '0.0.0.0' })).toEqual([expect.stringContaining('METRICS_HOST is set: also set METRICS_PORT')]);
  });
  test('timeouts: defaults for an API of small bodies; headers may not outlast the request, keep-alive not the idle limit', () => {
    expect(loadConfig({}).exposure.http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 55_000, idleTimeoutMs: 60_000 });
    expect(problems({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toEqual([expect.stringContaining('HTTP_HEADERS_TIMEOUT_MS must not be larger')]);
    expect(problems({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '90000' })).toEqual([expect.stringContaining('HTTP_KEEP_ALIVE_TIMEOUT_MS must not be larger than HTTP_IDLE_TIMEOUT_MS')]);
  });
});

test('the real CLI refuses each exposed setup with exit 2 and the sentence', async () => {
  const runs = [
    [{ HOST: '0.0.0.0', ALLOWED_HOSTS: 'uploads.test', ...TOKENS }, 'published dev keys'],
    [{ ...BUCKET, TRUST_PROXY: 'true' }, 'TRUST_PROXY=true would trust every X-Forwarded-For hop'],
    [{ TRUST_PROXY: '1' }, 'must never be reached through a proxy'],
    [{ ...BUCKET, HOST: '0.0.0.0' }, 'reachable from other machines'],
  ] as const;
  const results = await Promise.all(
    runs.map(async ([env]) => {
      const r = runCli([], { PORT: '0', ...env });
      return { code: await r.exit, out: r.output() };
    }),
  );
  results.forEach((r, i) => {
    expect(r.code).toBe(2);
    expect(r.out).toContain(runs[i]?.[1]);
  });
});
