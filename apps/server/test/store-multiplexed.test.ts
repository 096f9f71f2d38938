// STORE_MULTIPLEXED: real chute-server processes (local mode: the embedded local-r2 is plain HTTP)
// tell clients at create whether the store multiplexes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';

type Json = any;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-multiplexed-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function create(cli: Cli): Promise<Json> {
  const r = await fetch(`${cli.url}/api/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: cli.url },
    body: JSON.stringify({ name: 'a.txt', size: 3, md5: 'kAFQmDzST7DWlj99KOF/cg==' }),
  });
  expect(r.status).toBe(201);
  return r.json();
}

/** Waits for a log line (bounded by the test's timeout, not asserted on). */
async function logged(cli: Cli, re: RegExp): Promise<void> {
  while (!re.test(cli.output())) await new Promise((ok) => setTimeout(ok, 20));
}

describe.concurrent('STORE_MULTIPLEXED', () => {
  test('true: every create answer says storeMultiplexed true', async () => {
    const cli = await startCli({ PORT: '0', DATA_DIR: join(dir, 'on'), STORE_MULTIPLEXED: 'true' });
    try {
      expect((await create(cli)).storeMultiplexed).toBe(true);
    } finally {
      await cli.stop();
    }
  });

  test('auto (the default) against the plain-HTTP embedded local-r2: false from the first create (known from the URL, no probe), and logged', async () => {
    const cli = await startCli({ PORT: '0', DATA_DIR: join(dir, 'auto'), LOG_LEVEL: 'info' });
    try {
      expect((await create(cli)).storeMultiplexed).toBe(false);
      await logged(cli, /STORE_MULTIPLEXED=auto: plain HTTP/);
    } finally {
      await cli.stop();
    }
  });
});
