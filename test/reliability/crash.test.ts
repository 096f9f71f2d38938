// Crash: kill -9 of local-r2 and of the signer at random moments during uploads, restart in
// place, then: every completed object intact, every interrupted upload resumable (and resumed
// from the parts the store kept), no torn object anywhere.
// Full setting: CHUTE_CRASH_ROUNDS=10 (10 kills of each). CI default: 2 of each.
import { randomBytes } from 'node:crypto';
import { MiB, type MultipartUploadResponse } from '@chute/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../bench/net/fault-proxy.js';
import { ChuteClient, SignerError, type UploadResult } from './lib/chute-client.js';
import { BUCKET, type Stack, startStack } from './lib/stack.js';
import { listKeys, md5hex, objectMd5 } from './lib/verify.js';

const ROUNDS = Number(process.env.CHUTE_CRASH_ROUNDS ?? 2);
const PER_ROUND = 6;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ users: 2, signer: { limits: { multipartThreshold: 5 * MiB, defaultPartSize: 5 * MiB } } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

interface Job {
  name: string;
  data: Buffer;
  up?: MultipartUploadResponse;
  result?: UploadResult;
  interrupted: boolean;
  resumedKept?: number;
}

describe('crash', () => {
  it(`kill -9 of local-r2 and of the signer, ${ROUNDS} time(s) each, mid-upload → completed objects intact, interrupted uploads resume, nothing torn`, async () => {
    const rand = seededRandom(Number(process.env.CHUTE_CRASH_SEED ?? 99));
    const jobs: Job[] = [];
    const log: string[] = [];
    let completedUnseen = 0;
    for (let round = 0; round < ROUNDS * 2; round++) {
      const target = round % 2 === 0 ? 'local-r2' : 'signer';
      let partsDone = 0;
      const killAfter = 1 + Math.floor(rand() * 12);
      let killed!: () => void;
      const killNow = new Promise<void>((r) => {
        killed = r;
      });
      // Half the clients give up quickly (so the crash interrupts them and they must be resumed),
      // half retry long enough to ride through the restart on their own.
      const client = (patient: boolean) =>
        new ChuteClient({
          signerUrl: stack.signer.url,
          authToken: stack.users[round % 2]?.token as string,
          concurrency: 2,
          multipartThreshold: 5 * MiB,
          maxAttempts: patient ? 10 : 1,
          signerAttempts: patient ? 10 : 1,
          onPartDone: () => {
            if (++partsDone === killAfter) killed();
          },
        });
      const batch: Job[] = Array.from({ length: PER_ROUND }, (_, i) => ({
        name: `crash-r${round}-${i}.bin`,
        data: randomBytes(i === 0 ? Math.floor(rand() * 300_000) : 5 * MiB + Math.floor(rand() * 16 * MiB)),
        interrupted: false,
      }));
      jobs.push(...batch);
      const running = batch.map(async (job, i) => {
        const c = client(i % 2 === 0);
        try {
          if (job.data.length < 5 * MiB) job.result = await c.upload(job.name, job.data);
          else {
            job.up = await c.createMultipart(job.name, job.data.length);
            job.result = await c.resume(job.up, job.data);
          }
        } catch {
          job.interrupted = true;
        }
      });
      // Kill at a random moment: after a random number of stored parts, or after a random delay.
      await Promise.race([killNow, new Promise((r) => setTimeout(r, 200 + rand() * 1500))]);
      const victim = target === 'local-r2' ? stack.r2 : stack.signer;
      victim.child.kill('SIGKILL');
      await victim.exited;
      await new Promise((r) => setTimeout(r, 100 + rand() * 700));
      if (target === 'local-r2') await stack.restartR2();
      else await stack.restartSigner();
      await Promise.all(running);
      // Resume whatever the crash interrupted, with fresh (patient) clients.
      for (const job of batch.filter((j) => j.interrupted)) {
        const c = new ChuteClient({ signerUrl: stack.signer.url, authToken: stack.users[round % 2]?.token as string, multipartThreshold: 5 * MiB });
        if (job.up) {
          try {
            job.result = await c.resume(job.up, job.data);
            job.resumedKept = job.result.keptParts ?? 0;
          } catch (err) {
            // The crash may have hit after Complete committed but before its answer arrived: the
            // upload is gone because the object exists. That is only fine if the object is whole.
            if (!(err instanceof SignerError && err.status === 404)) throw err;
            const stored = await objectMd5(stack.s3, BUCKET, job.up.key);
            if (stored?.md5 !== md5hex(job.data)) throw new Error(`${job.name}: upload gone and object ${stored ? 'differs' : 'missing'}`);
            job.result = { key: job.up.key, etag: '', size: job.data.length, partRetries: 0 };
            completedUnseen++;
          }
        } else job.result = await c.upload(job.name, job.data);
      }
      log.push(
        `${target} killed after ${partsDone} parts: ${batch.filter((j) => j.interrupted).length}/${PER_ROUND} interrupted, ` +
          `resumed keeping ${batch.reduce((a, j) => a + (j.resumedKept ?? 0), 0)} stored parts`,
      );
    }

    // Every object is whole and identical to its source; nothing else exists.
    const bad: string[] = [];
    for (const job of jobs) {
      const key = job.result?.key;
      if (!key) {
        bad.push(`${job.name}: never completed`);
        continue;
      }
      const stored = await objectMd5(stack.s3, BUCKET, key);
      if (!stored || stored.md5 !== md5hex(job.data)) bad.push(`${job.name}: ${stored ? 'differs' : 'missing'}`);
    }
    const keys = await listKeys(stack.s3, BUCKET);
    const expected = new Set(jobs.map((j) => j.result?.key));
    const torn = keys.filter((k) => !expected.has(k));
    const interrupted = jobs.filter((j) => j.interrupted).length;
    console.log(`[crash] ${ROUNDS * 2} kills, ${jobs.length} uploads, ${interrupted} interrupted and resumed (${completedUnseen} had completed before the crash, answer lost); ${log.join('; ')}; bad ${bad.length}, unexpected objects ${torn.length}`);
    expect(bad).toEqual([]);
    expect(torn).toEqual([]);
    expect(interrupted).toBeGreaterThan(0);
  }, 900_000);
});
