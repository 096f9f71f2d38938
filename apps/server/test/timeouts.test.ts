import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';
import { trickle } from './http.js';

// Slow clients must not hold sockets. Short timeouts for the test; each case gives up after a
// bound far above them (and far below Node's defaults of 60 s for headers, 300 s for requests).

const GIVE_UP_MS = 15_000;
let dir: string;
let cli: Cli;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-timeouts-'));
  cli = await startCli({
    PORT: '0',
    DATA_DIR: dir,
    LOG_LEVEL: 'info',
    HTTP_HEADERS_TIMEOUT_MS: '500',
    HTTP_REQUEST_TIMEOUT_MS: '1000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
    HTTP_IDLE_TIMEOUT_MS: '2000',
  });
});
afterAll(async () => {
  await cli.stop();
  await rm(dir, { recursive: true, force: true });
});

const status = (answer: string) => /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];

test('headers trickled a byte at a time and never finished: 408 request_timeout, then closed', async () => {
  const head = 'GET /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
  const r = await trickle(cli.url, [head, ...'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], 100, GIVE_UP_MS);
  expect(r.open).toBe(false);
  expect(status(r.answer)).toBe('408');
  expect(r.answer).toContain('"code":"request_timeout"');
});

test('a connection that sends nothing at all is closed', async () => {
  const r = await trickle(cli.url, [], 100, GIVE_UP_MS);
  expect(r.open).toBe(false);
});

test('a JSON body that stops half-way (Content-Length): 408 request_timeout, then closed; nothing logged as a failure', async () => {
  const r = await trickle(cli.url, ['POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":'], 100, GIVE_UP_MS);
  expect(r.open).toBe(false);
  expect(status(r.answer)).toBe('408');
  expect(r.answer).toContain('"code":"request_timeout"');
  expect(cli.output()).not.toContain('unhandled error');
  expect(cli.output()).not.toContain('"level":50');
});

test('a chunked body trickled without end (the streaming path): answered and closed within the request timeout', async () => {
  const chunks = ['POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array(100).fill('1\r\n \r\n')];
  const r = await trickle(cli.url, chunks, 100, GIVE_UP_MS);
  expect(r.open).toBe(false);
  expect(status(r.answer)).toBe('408');
  expect(cli.output()).not.toContain('unhandled error');
  expect(cli.output()).not.toContain('"level":50');
});

test('an idle keep-alive connection is closed after its answer', async () => {
  const r = await trickle(cli.url, ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], 100, GIVE_UP_MS);
  expect(r.open).toBe(false);
  expect(status(r.answer)).toBe('200');
});

test('a normal request on the same server is unaffected', async () => {
  const r = await fetch(`${cli.url}/api/uploads`);
  expect(r.status).toBe(200);
});
