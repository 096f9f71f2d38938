// STORE_MULTIPLEXED on the Worker, under workerd (miniflare) against a real plain-HTTP local-r2:
// true / false are said at create (`storeMultiplexed`) as set; anything else is a config error.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningWorker, startWorker } from './start.js';

type Json = any;

const BUCKET = 'worker-multiplexed';
const TOKEN = 'alice-token-0123456789';
let dir: string;
let r2: LocalR2;
let vars: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-worker-multiplexed-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: dir, buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {} });
  vars = {
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: 'worker-multiplexed-token-secret-0123456789',
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: `${TOKEN}:alice`,
  };
}, 120_000);

afterAll(async () => {
  await r2?.close();
  await rm(dir, { recursive: true, force: true });
});

async function create(w: RunningWorker, body: unknown): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${w.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
const single = { name: 'a.txt', size: 3, md5: 'kAFQmDzST7DWlj99KOF/cg==' };
const multipart = { name: 'b.bin', size: 12 * 2 ** 20, multipart: true };

async function withWorker<T>(extra: Record<string, string | boolean>, fn: (w: RunningWorker) => Promise<T>, captureOutput = false): Promise<T> {
  const w = await startWorker({ vars: { ...vars, ...extra }, durableLimits: false, captureOutput });
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

describe.concurrent('STORE_MULTIPLEXED (Worker)', () => {
  test.each([
    ['true', true],
    ['false', false],
    ['yes', true],
    ['0', false],
  ])('%s: single and multipart create answers say storeMultiplexed %s', (setting, want) =>
    withWorker({ STORE_MULTIPLEXED: setting }, async (w) => {
      const [s, m] = [await create(w, single), await create(w, multipart)];
      expect([s.status, m.status]).toEqual([201, 201]);
      expect([s.body.storeMultiplexed, m.body.storeMultiplexed]).toEqual([want, want]);
    }),
  );

  test('auto, and unset: the core\u2019s default (knownMultiplexed) — false for this plain-HTTP endpoint, nothing said for another https one', async () => {
    for (const extra of [{ STORE_MULTIPLEXED: 'auto' }, {}])
      await withWorker(extra, async (w) => {
        const [s, m] = [await create(w, single), await create(w, multipart)];
        expect([s.status, s.body.storeMultiplexed, m.body.storeMultiplexed]).toEqual([201, false, false]);
      });
    // An https endpoint that is not R2 (single PUTs are signed without calling it).
    await withWorker({ S3_ENDPOINT: 'https://s3.example.com' }, async (w) => {
      const s = await create(w, single);
      expect([s.status, 'storeMultiplexed' in s.body]).toEqual([201, false]);
    });
  });

  test('auto on an R2 account: true (signing a single PUT needs no call to the store); false overrides it', async () => {
    const r2Vars = { S3_ENDPOINT: '', S3_FORCE_PATH_STYLE: '', R2_ACCOUNT_ID: '0123456789abcdef0123456789abcdef' };
    for (const [setting, want] of [['auto', true], ['false', false]] as const)
      await withWorker({ ...r2Vars, STORE_MULTIPLEXED: setting }, async (w) => {
        const s = await create(w, single);
        expect([s.status, s.body.storeMultiplexed]).toEqual([201, want]);
        expect(s.body.request.url).toMatch(/^https:\/\/worker-multiplexed\.0123456789abcdef0123456789abcdef\.r2\.cloudflarestorage\.com\//);
      });
  });

  test('a TOML boolean in [vars] (a JSON binding, not a string) counts too', () =>
    withWorker({ STORE_MULTIPLEXED: true }, async (w) => {
      expect((await create(w, single)).body.storeMultiplexed).toBe(true);
    }),
  );

  test('any other value: every request answers 500 internal_error, and the log names the setting', () =>
    withWorker(
      { STORE_MULTIPLEXED: 'maybe' },
      async (w) => {
        const r = await create(w, single);
        expect([r.status, r.body.error.code]).toEqual([500, 'internal_error']);
        const health = await fetch(`${w.url}/healthz`);
        expect(health.status).toBe(500);
        await health.body?.cancel();
        const deadline = Date.now() + 10_000;
        while (!w.output().includes('STORE_MULTIPLEXED') && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
        expect(w.output()).toContain('STORE_MULTIPLEXED: must be auto, true or false (got "maybe")');
      },
      true,
    ),
  );

  test('the other booleans are checked as strictly (S3_FORCE_PATH_STYLE, TOKEN_FORM: a bad value was taken as false)', () =>
    withWorker(
      { S3_FORCE_PATH_STYLE: 'maybe', TOKEN_FORM: 'sometimes' },
      async (w) => {
        expect((await create(w, single)).status).toBe(500);
        const deadline = Date.now() + 10_000;
        while (!w.output().includes('TOKEN_FORM') && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
        expect(w.output()).toContain('S3_FORCE_PATH_STYLE: must be true or false (got "maybe")');
        expect(w.output()).toContain('TOKEN_FORM: must be true or false (got "sometimes")');
      },
      true,
    ),
  );
});
