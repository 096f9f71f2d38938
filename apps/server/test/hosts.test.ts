import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';
import { send } from './http.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// DNS rebinding: a page on evil.example re-resolves its name to 127.0.0.1 and calls the server
// through the victim's browser, with `Host: evil.example`. Only listed names may be answered.

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'chute-hosts-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const port = (cli: Cli) => new URL(cli.url).port;
/** The embedded local-r2's port, from the LOCAL MODE log line. */
const r2Port = (cli: Cli) => /embedded local-r2 at http:\/\/[^:]+:(\d+)/.exec(cli.output())?.[1] as string;

describe('local mode on loopback (the default)', () => {
  let cli: Cli;
  beforeAll(async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    cli = await startCli({ PORT: '0', DATA_DIR: join(dir, 'data'), STATIC_DIR: dir });
  });
  afterAll(() => cli.stop());

  test('every route refuses a foreign Host with 421 host_not_allowed, before CORS and auth', async () => {
    const at = (path: string) => `http://127.0.0.1:${port(cli)}${path}`;
    const answers = await Promise.all([
      send(at('/api/uploads'), { host: 'evil.example' }),
      send(at('/api/uploads'), { method: 'OPTIONS', host: `evil.example:${port(cli)}`, headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } }),
      send(at('/api/uploads'), { method: 'POST', host: 'evil.example', headers: { 'content-type': 'application/json' }, body: '{"name":"a","size":1}' }),
      send(at('/healthz'), { host: 'evil.example' }),
      send(at('/metrics'), { host: 'evil.example' }),
      send(at('/'), { host: 'evil.example' }),
      send(at('/some/page'), { host: '127.0.0.1.evil.example', headers: { accept: 'text/html' } }),
    ]);
    for (const a of answers) {
      expect([a.status, a.code]).toEqual([421, 'host_not_allowed']);
      expect(a.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect(JSON.parse(answers[0]?.text ?? '').error.message).toBe(
      "Host 'evil.example' is not a name this signer answers to; set ALLOWED_HOSTS (the allowedHosts option) to include it.",
    );
  });

  test('the loopback names are answered, any case, with or without the port', async () => {
    for (const host of [`localhost:${port(cli)}`, 'LOCALHOST', `127.0.0.1:${port(cli)}`, `[::1]:${port(cli)}`]) {
      const a = await send(`http://127.0.0.1:${port(cli)}/api/uploads`, { host });
      expect([host, a.status]).toEqual([host, 200]);
      expect((await send(`http://127.0.0.1:${port(cli)}/healthz`, { host })).status).toBe(200);
    }
  });

  test('the embedded local-r2 refuses the foreign Host too', async () => {
    const a = await send(`http://127.0.0.1:${r2Port(cli)}/chute?list-type=2`, { host: 'evil.example' });
    expect(a.status).toBe(403);
    expect(a.text).toContain('evil.example');
  });
});

describe('local mode on 0.0.0.0 with its own keys', () => {
  const KEY = { accessKeyId: 'chute-test-key', secretAccessKey: 'k'.repeat(40) };
  const TOKEN = 'a-long-static-token-1';
  let cli: Cli;
  beforeAll(async () => {
    const dir = await tmp();
    cli = await startCli({
      HOST: '0.0.0.0',
      PORT: '0',
      DATA_DIR: dir,
      AUTH_MODE: 'tokens',
      AUTH_TOKENS: `${TOKEN}:alice`,
      ALLOWED_HOSTS: 'uploads.test',
      LOCAL_R2_ACCESS_KEY_ID: KEY.accessKeyId,
      LOCAL_R2_SECRET_ACCESS_KEY: KEY.secretAccessKey,
    });
  });
  afterAll(() => cli.stop());

  const s3 = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new S3Client({ region: 'auto', endpoint: `http://127.0.0.1:${r2Port(cli)}`, forcePathStyle: true, credentials, maxAttempts: 1 });

  test('the published dev keys open nothing; the configured ones do, and the signer uses them', async () => {
    const published = s3({ accessKeyId: 'local-r2-access-key-id', secretAccessKey: 'local-r2-secret-access-key' });
    await expect(published.send(new ListObjectsV2Command({ Bucket: 'chute' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    const own = s3(KEY);
    expect((await own.send(new ListObjectsV2Command({ Bucket: 'chute' }))).$metadata.httpStatusCode).toBe(200);
    published.destroy();
    own.destroy();
    // An upload signed by the signer lands in the store (its presigned URL carries the configured key).
    const body = 'hello';
    const c = await send(`http://127.0.0.1:${port(cli)}/api/uploads`, {
      method: 'POST',
      host: 'uploads.test',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a.txt', size: body.length, md5: createHash('md5').update(body).digest('base64') }),
    });
    expect(c.status).toBe(201);
    const req = JSON.parse(c.text).request as { url: string; headers: Record<string, string> };
    expect(req.url).toContain(`X-Amz-Credential=${KEY.accessKeyId}`);
    expect(req.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/chute\//);
    const put = await fetch(req.url, { method: 'PUT', headers: req.headers, body });
    expect(put.status).toBe(200);
  });

  test('ALLOWED_HOSTS is answered by the signer and the embedded local-r2; other names are not', async () => {
    expect((await send(`http://127.0.0.1:${port(cli)}/api/uploads`, { host: 'uploads.test' })).status).toBe(401);
    expect((await send(`http://127.0.0.1:${port(cli)}/api/uploads`, { host: 'evil.example' })).code).toBe('host_not_allowed');
    // A non-loopback HOST adds no loopback names to the signer's list.
    expect((await send(`http://127.0.0.1:${port(cli)}/healthz`, { host: 'localhost' })).code).toBe('host_not_allowed');
    const ok = await send(`http://127.0.0.1:${r2Port(cli)}/chute?list-type=2`, { host: `uploads.test:${r2Port(cli)}` });
    expect(ok.text).not.toContain('is not a name');
    const evil = await send(`http://127.0.0.1:${r2Port(cli)}/chute?list-type=2`, { host: 'evil.example' });
    expect(evil.text).toContain('evil.example');
  });
});

test('a real bucket on 0.0.0.0: the PUBLIC_URL host is the name answered', async () => {
  const cli = await startCli({
    HOST: '0.0.0.0',
    PORT: '0',
    PUBLIC_URL: 'https://uploads.example.com',
    S3_ENDPOINT: 'http://127.0.0.1:9',
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: 'AKID',
    S3_SECRET_ACCESS_KEY: 'secret-access-key-value',
    TOKEN_SECRETS: 't'.repeat(32),
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: 'a-long-static-token-1:alice',
  });
  try {
    // PUBLIC_URL hides the port: the log line says where the server listens.
    const listening = /"listen":"0\.0\.0\.0:(\d+)"/.exec(cli.output())?.[1];
    expect((await send(`http://127.0.0.1:${listening}/api/uploads`, { host: 'uploads.example.com' })).status).toBe(401);
    expect((await send(`http://127.0.0.1:${listening}/api/uploads`, { host: 'UPLOADS.example.com:443' })).status).toBe(401);
    for (const host of ['localhost', '127.0.0.1', 'evil.example', 'uploads.example.com.evil.example']) {
      expect([host, (await send(`http://127.0.0.1:${listening}/healthz`, { host })).code]).toEqual([host, 'host_not_allowed']);
    }
  } finally {
    await cli.stop();
  }
});

