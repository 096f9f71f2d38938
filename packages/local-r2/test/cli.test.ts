import { spawn } from 'node:child_process';
import { request } from 'node:http';
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

  it('answers the --allowed-host names (else LOCAL_R2_ALLOWED_HOSTS) besides the loopback defaults', async () => {
    const start = async (args: string[], env: NodeJS.ProcessEnv) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions', 'source', cli, '--port', '0', '--data-dir', join(dir, args.join('-') || 'env'), ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0] as string);
        });
        proc.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      return { proc, endpoint: line.slice('local-r2 listening on '.length) };
    };
    // The host check comes before auth: a refused name says so, an allowed one gets the auth error.
    const message = (endpoint: string, host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${endpoint}/`, { headers: { host } }, (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve(/<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? ''));
        });
        req.on('error', reject);
        req.end();
      });
    const flag = await start(['--allowed-host', 'dev.box', '--allowed-host', '*.example.com'], { LOCAL_R2_ALLOWED_HOSTS: 'ignored.test' });
    const env = await start([], { LOCAL_R2_ALLOWED_HOSTS: 'env.box, *.env.test' });
    try {
      for (const host of ['dev.box', 'a.example.com', 'localhost']) expect(await message(flag.endpoint, host)).toBe('Access Denied: the request is not signed.');
      expect(await message(flag.endpoint, 'ignored.test')).toContain('is not a name this server answers to');
      for (const host of ['env.box', 'a.env.test']) expect(await message(env.endpoint, host)).toBe('Access Denied: the request is not signed.');
      expect(await message(env.endpoint, 'dev.box')).toContain('is not a name this server answers to');
    } finally {
      for (const { proc } of [flag, env]) {
        await new Promise((resolve) => {
          proc.once('exit', resolve);
          proc.kill('SIGTERM');
        });
      }
    }
  }, 30_000);
});
