// Load: N concurrent uploads from Node with the widget's protocol (create → sign batches → parallel
// part PUTs → complete with CRC64NVME), while the cross-user auth matrix runs against the same
// signer. Expectation: 0 lost or corrupt objects, every cross-user attempt refused.
// Full setting (issue #6): CHUTE_LOAD_N=200. CI default: 50 uploads, 4 auth rounds.
import { randomBytes } from 'node:crypto';
import { MiB, ROUTES, UPLOAD_TOKEN_HEADER } from '@chute/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/net/fault-proxy.js';
import { ChuteClient, SignerError } from './lib/chute-client.js';
import { BUCKET, type Stack, startStack } from './lib/stack.js';
import { listKeys, md5hex, objectMd5, percentile } from './lib/verify.js';

const N = Number(process.env.CHUTE_LOAD_N ?? 50);
const AUTH_ROUNDS = Number(process.env.CHUTE_AUTH_ROUNDS ?? 4);
const USERS = 8;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ users: USERS, signer: { limits: { multipartThreshold: 5 * MiB, defaultPartSize: 5 * MiB } } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** Mixed sizes: 70% single PUTs up to 512 KiB (incl. empty), 30% multipart of 2–4 parts. */
function sizeFor(rand: () => number, i: number): number {
  if (i % 10 === 0) return i % 20 === 0 ? 0 : 1;
  return rand() < 0.7 ? Math.floor(rand() * 512 * 1024) : 5 * MiB + 1 + Math.floor(rand() * 13 * MiB);
}

interface MatrixOutcome {
  checks: number;
  failures: string[];
}

/** One round of the cross-user matrix: `b` attacks `a`'s pending upload and object. */
async function authRound(a: ChuteClient, b: ChuteClient, anon: ChuteClient, bogus: ChuteClient, victimKey: string): Promise<MatrixOutcome> {
  const failures: string[] = [];
  let checks = 0;
  const up = await a.createMultipart('victim.bin', 12 * MiB);
  const expectRefused = async (name: string, statuses: number[], codes: string[], fn: () => Promise<unknown>) => {
    checks++;
    try {
      await fn();
      failures.push(`${name}: was allowed`);
    } catch (err) {
      if (!(err instanceof SignerError)) failures.push(`${name}: ${String(err)}`);
      else if (!statuses.includes(err.status) || !codes.includes(err.code)) failures.push(`${name}: ${err.status} ${err.code}`);
    }
  };
  const md5 = '1B2M2Y8AsgTpgAMF7PhCfg==';
  const flip = (t: string) => t.slice(0, 20) + (t[20] === 'A' ? 'B' : 'A') + t.slice(21);
  const cross = [403];
  const crossCodes = ['forbidden', 'invalid_token'];
  await Promise.all([
    expectRefused('B signs A parts', cross, crossCodes, () => b.callOnce('POST', ROUTES.parts(up.uploadId), { token: up.token, parts: [{ partNumber: 1, md5 }] })),
    expectRefused('B lists A parts', cross, crossCodes, () => b.callOnce('GET', ROUTES.parts(up.uploadId), undefined, { [UPLOAD_TOKEN_HEADER]: up.token })),
    expectRefused('B completes A', cross, crossCodes, () => b.callOnce('POST', ROUTES.complete(up.uploadId), { token: up.token })),
    expectRefused('B aborts A', cross, crossCodes, () => b.callOnce('DELETE', ROUTES.upload(up.uploadId), undefined, { [UPLOAD_TOKEN_HEADER]: up.token })),
    expectRefused('B downloads A object', cross, crossCodes, () => b.callOnce('POST', ROUTES.downloads, { key: victimKey })),
    expectRefused('B stock-Uppy signs a part of A', cross, crossCodes, () =>
      b.callOnce('POST', ROUTES.uppySign, { method: 'PUT', key: up.key, uploadId: up.uploadId, partNumber: 1 }),
    ),
    expectRefused('A with a tampered token', cross, ['invalid_token'], () => a.callOnce('POST', ROUTES.parts(up.uploadId), { token: flip(up.token), parts: [{ partNumber: 1, md5 }] })),
    expectRefused('no credentials: create', [401], ['unauthorized'], () => anon.callOnce('POST', ROUTES.uploads, { name: 'x', size: 1 })),
    expectRefused('no credentials: sign', [401], ['unauthorized'], () => anon.callOnce('POST', ROUTES.parts(up.uploadId), { token: up.token, parts: [{ partNumber: 1, md5 }] })),
    expectRefused('no credentials: download', [401], ['unauthorized'], () => anon.callOnce('POST', ROUTES.downloads, { key: victimKey })),
    expectRefused('invalid bearer: list uploads', [401], ['unauthorized'], () => bogus.callOnce('GET', ROUTES.uploads)),
    expectRefused('invalid bearer: complete', [401], ['unauthorized'], () => bogus.callOnce('POST', ROUTES.complete(up.uploadId), { token: up.token })),
  ]);
  // B's own listing never shows A's objects.
  checks++;
  const mine = (await b.callOnce<{ uploads: { key: string }[] }>('GET', ROUTES.uploads)).uploads;
  if (mine.some((o) => o.key === victimKey)) failures.push("B's listing shows A's object");
  // A's upload survived every attempt: A can still finish it, byte-identical.
  checks++;
  const data = randomBytes(12 * MiB);
  const done = await a.resume(up, data);
  const stored = await objectMd5(stack.s3, BUCKET, done.key);
  if (stored?.md5 !== md5hex(data)) failures.push("A's upload was harmed");
  return { checks, failures };
}

describe('load', () => {
  it(`${N} concurrent uploads (mixed sizes, ${USERS} users) → 0 lost or corrupt; cross-user matrix refused under load`, async () => {
    const rand = seededRandom(Number(process.env.CHUTE_LOAD_SEED ?? 7));
    const latencies: number[] = [];
    const clients = stack.users.map(
      (u) => new ChuteClient({
        signerUrl: stack.signer.url,
        authToken: u.token,
        concurrency: 4,
        multipartThreshold: 5 * MiB,
        onSignerLatency: (ms) => latencies.push(ms),
      }),
    );
    const jobs = Array.from({ length: N }, (_, i) => ({ i, user: i % USERS, data: randomBytes(sizeFor(rand, i)) }));
    const totalBytes = jobs.reduce((a, j) => a + j.data.length, 0);
    // A victim object for the download checks.
    const a = clients[0] as ChuteClient;
    const b = clients[1] as ChuteClient;
    const victim = await a.upload('victim-object.bin', randomBytes(1000));
    const anon = new ChuteClient({ signerUrl: stack.signer.url, authToken: '' });
    const bogus = new ChuteClient({ signerUrl: stack.signer.url, authToken: 'not-a-real-token-0000000000' });

    const t0 = performance.now();
    const uploads = Promise.all(
      jobs.map(async (j) => {
        const r = await (clients[j.user] as ChuteClient).upload(`load-${j.i}.bin`, j.data);
        return { ...j, result: r, md5: md5hex(j.data) };
      }),
    );
    const matrix = (async () => {
      const out: MatrixOutcome = { checks: 0, failures: [] };
      for (let r = 0; r < AUTH_ROUNDS; r++) {
        const o = await authRound(a, b, anon, bogus, victim.key);
        out.checks += o.checks;
        out.failures.push(...o.failures);
      }
      return out;
    })();
    const [done, auth] = await Promise.all([uploads, matrix]);
    const seconds = (performance.now() - t0) / 1000;

    const bad: string[] = [];
    for (const d of done) {
      const stored = await objectMd5(stack.s3, BUCKET, d.result.key);
      if (!stored) bad.push(`${d.result.key}: lost`);
      else if (stored.md5 !== d.md5 || stored.size !== d.data.length) bad.push(`${d.result.key}: corrupt`);
    }
    // Nothing extra or missing per user: each key lives under its owner's prefix.
    for (const [u, user] of stack.users.entries()) {
      const keys = (await listKeys(stack.s3, BUCKET, `uploads/${user.id}/`)).filter((k) => /load-\d+\.bin$/.test(k));
      const expected = done.filter((d) => d.user === u).length;
      if (keys.length !== expected) bad.push(`${user.id}: ${keys.length} objects listed, ${expected} uploaded`);
    }
    const multipart = done.filter((d) => d.data.length > 5 * MiB).length;
    console.log(
      `[load] ${N} uploads (${multipart} multipart, ${(totalBytes / MiB).toFixed(0)} MiB) in ${seconds.toFixed(1)} s = ${(totalBytes / 1e6 / seconds).toFixed(0)} MB/s; ` +
        `signer calls ${latencies.length}: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(0)} ms; ` +
        `part retries ${done.reduce((a, d) => a + d.result.partRetries, 0)}; auth checks ${auth.checks}, failures ${auth.failures.length}; lost/corrupt ${bad.length}`,
    );
    expect(bad).toEqual([]);
    expect(auth.failures).toEqual([]);
    expect(auth.checks).toBe(AUTH_ROUNDS * 14);
  }, 900_000);
});
