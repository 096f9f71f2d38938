import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, runCli, startCli } from './cli.js';

// Test responses are loosely typed on purpose.
type Json = any;

let dir: string;
let cli: Cli;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-server-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
  cli = await startCli({ PORT: '0', DATA_DIR: join(dir, 'data'), STATIC_DIR: dir, LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await cli.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const json = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(`${cli.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: r.status, body: (await r.json()) as Json, headers: r.headers };
};

describe('local mode', () => {
  test('says so, with the data dir', () => {
    expect(cli.output()).toContain('LOCAL MODE');
    expect(cli.output()).toContain(join(dir, 'data', 'local-r2'));
    expect(cli.output()).toContain('OPEN DEV MODE');
  });

  test('/healthz reaches the bucket', async () => {
    const r = await json('/healthz');
    expect([r.status, r.body]).toEqual([200, { ok: true, bucket: 'reachable' }]);
  });

  test('a browser-style upload from the served origin: preflight to the bucket, PUT, download', async () => {
    const file = randomBytes(1234);
    const md5 = createHash('md5').update(file).digest('base64');
    const c = await json('/api/uploads', { method: 'POST', body: JSON.stringify({ name: 'photo.jpg', type: 'image/jpeg', size: file.length, md5 }), headers: { origin: cli.url } });
    expect(c.status).toBe(201);
    expect(c.headers.get('access-control-allow-origin')).toBe(cli.url);
    expect(c.body.key).toMatch(/^uploads\/dev\//);
    const req = c.body.request;
    // The bucket's CORS (applied at start) lets the demo origin send the signed headers and read ETag.
    const pre = await fetch(req.url, {
      method: 'OPTIONS',
      headers: { origin: cli.url, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,content-md5' },
    });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe(cli.url);
    const put = await fetch(req.url, { method: 'PUT', headers: { ...req.headers, origin: cli.url }, body: file });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag');
    const d = await json('/api/downloads', { method: 'POST', body: JSON.stringify({ key: c.body.key }) });
    const back = Buffer.from(await (await fetch(d.body.request.url)).arrayBuffer());
    expect(back.equals(file)).toBe(true);
    const mine = await json('/api/uploads');
    expect(mine.body.uploads.map((u: Json) => u.key)).toContain(c.body.key);
  });

  test('serves STATIC_DIR, with index.html for unknown app paths; unknown API paths are JSON 404s', async () => {
    expect(await (await fetch(`${cli.url}/`)).text()).toContain('<title>demo</title>');
    const spa = await fetch(`${cli.url}/some/page`, { headers: { accept: 'text/html' } });
    expect([spa.status, await spa.text()]).toEqual([200, '<!doctype html><title>demo</title>']);
    const api = await json('/api/nope');
    expect([api.status, api.body.error.code]).toEqual([404, 'not_found']);
  });

  test('requests Node’s HTTP parser refuses (a DELETE body without framing, a bad Content-Length) and Host-less ones get JSON errors and a close', async () => {
    const { port } = new URL(cli.url);
    for (const raw of [
      'DELETE /api/uppy/s3/create?uploads HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n{"raw":"x"}',
      'POST /api/uploads HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: abc\r\n\r\n',
      'GET /api/uploads HTTP/1.1\r\n\r\n', // no Host
    ]) {
      const text = await new Promise<string>((ok) => {
        const s = net.connect(Number(port), '127.0.0.1');
        let got = '';
        s.on('data', (c: Buffer) => (got += c.toString('latin1')));
        s.on('error', () => {});
        s.on('close', () => ok(got));
        s.write(raw);
      });
      expect(text.match(/^HTTP\/1\.1 (\d{3}) /gm)?.at(-1)).toBe('HTTP/1.1 400 ');
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text).toContain('{"error":{"code":"bad_request","message":"');
    }
  });

  test('/metrics: requests by route and status, latency histograms, errors by code', async () => {
    await json('/api/uploads', { method: 'POST', body: '{"name":"x","size":-1}' });
    const text = await (await fetch(`${cli.url}/metrics`)).text();
    expect(text).toMatch(/chute_http_requests_total\{method="POST",route="\/api\/uploads",status="201"\} [1-9]/);
    expect(text).toMatch(/chute_http_request_duration_seconds_bucket\{le="0\.05",method="POST",route="\/api\/uploads"\} [1-9]/);
    expect(text).toMatch(/chute_errors_total\{code="validation_failed"\} [1-9]/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  test('JSON logs carry requests but no URL signatures or tokens', async () => {
    const uppy = await json('/api/uppy/sign', { method: 'POST', body: JSON.stringify({ method: 'POST', key: 'movie.mp4', size: 6 * 1024 * 1024 }) });
    const token = new URL(uppy.body.url).searchParams.get('t') as string;
    await fetch(uppy.body.url, { method: 'POST', headers: { 'content-type': 'video/mp4' } });
    await new Promise((r) => setTimeout(r, 200));
    const lines = cli.output().split('\n').filter((l) => l.startsWith('{'));
    const requests = lines.map((l) => JSON.parse(l)).filter((l: Json) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.some((l: Json) => l.route === '/api/uppy/s3/create' && l.status === 200 && l.user === 'dev')).toBe(true);
    const all = cli.output();
    expect(all).not.toMatch(/X-Amz-Signature=[0-9a-f]{16}/);
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[1]);
  });
});

test('SIGTERM shuts down cleanly (exit 0)', async () => {
  const d = await mkdtemp(join(tmpdir(), 'chute-server-'));
  const c = await startCli({ PORT: '0', DATA_DIR: d });
  expect(await c.stop('SIGTERM')).toBe(0);
  expect(c.output()).toContain('shutting down');
  // A restart with the same data dir keeps the token secret: uploads in flight stay valid.
  await rm(d, { recursive: true, force: true });
});

test('bad configuration: exit 2 and every problem in words', async () => {
  const { output, exit } = runCli([], { PORT: 'http', S3_BUCKET: 'b', HOST: '0.0.0.0' });
  expect(await exit).toBe(2);
  expect(output()).toContain('Invalid configuration');
  expect(output()).toContain('PORT');
  const second = runCli([], { HOST: '0.0.0.0' });
  expect(await second.exit).toBe(2);
  expect(second.output()).toContain('AUTH_MODE=open only binds to loopback, but HOST is 0.0.0.0');
});
