// An uploader calls the signer every few seconds to minutes (signing ahead, completing): with the
// defaults, a connection left idle longer than Node's 5 s keep-alive still carries the next call.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';

let dir: string;
let cli: Cli;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-keep-alive-'));
  cli = await startCli({ PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'warn' });
});
afterAll(async () => {
  await cli.stop();
  await rm(dir, { recursive: true, force: true });
});

test('defaults: a keep-alive connection idle for 6 s answers its next request', async () => {
  const { hostname, port } = new URL(cli.url);
  const socket = net.connect(Number(port), hostname);
  let closed = false;
  socket.on('close', () => {
    closed = true;
  });
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString();
  });
  const answers = () => received.split('HTTP/1.1 200').length - 1;
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  };
  const ask = () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  ask();
  await until(() => answers() === 1);
  expect(received).toMatch(/keep-alive: timeout=55/i);
  await new Promise((r) => setTimeout(r, 6_000));
  expect(closed).toBe(false);
  ask();
  await until(() => answers() === 2);
  expect(answers()).toBe(2);
  socket.destroy();
}, 20_000);
