import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, codeOf } from './helpers.js';
import { sdk } from './sdk.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-r2-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CLI', () => {
  it('takes credentials from the environment, creates --bucket buckets, prints the ready line, exits on SIGTERM', async () => {
    // Run from source through tsx so this test needs no build.
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions', 'source', cli, '--port', '0', '--data-dir', dir, '--bucket', 'one', '--bucket', 'two'],
      { env: { ...process.env, LOCAL_R2_ACCESS_KEY_ID: 'env-key', LOCAL_R2_SECRET_ACCESS_KEY: 'env-secret' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      proc.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(line).toMatch(/^local-r2 listening on http:\/\/127\.0\.0\.1:\d+$/);
    const endpoint = line.slice('local-r2 listening on '.length);
    const s3 = client(endpoint, { credentials: { accessKeyId: 'env-key', secretAccessKey: 'env-secret' } });
    const buckets = await s3.send(new sdk.ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toEqual(['one', 'two']);
    const defaults = client(endpoint);
    expect(await codeOf(defaults.send(new sdk.ListBucketsCommand({})))).toBe('InvalidAccessKeyId');
    s3.destroy();
    defaults.destroy();
    const code = await new Promise<number | null>((resolve) => {
      proc.once('exit', resolve);
      proc.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 30_000);
});
