// Faults: a fault proxy between the clients and the store cuts 5% of part uploads mid-body and
// delays 20% of the rest. Expectation: every upload completes byte-identical. Run twice: from
// Node with the widget's protocol, and in Chromium with @chute/uploader itself.
// Full setting (issue #6): CHUTE_FAULTS_N=50 (also the CI default), CHUTE_FAULTS_CUT=0.05.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { ALL_CHECKSUM_HEADERS, MiB } from '@chute/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../bench/lib/browser.js';
import { buildPages } from '../bench/lib/build-pages.js';
import { startStaticServer } from '../bench/lib/static-server.js';
import { type FaultProxy, seededRandom, startFaultProxy } from '../bench/net/fault-proxy.js';
import { ChuteClient, type UploadResult } from './lib/chute-client.js';
import { BUCKET, type Stack, startStack } from './lib/stack.js';
import { md5hex, objectMd5 } from './lib/verify.js';

const N = Number(process.env.CHUTE_FAULTS_N ?? 50);
const CUT = Number(process.env.CHUTE_FAULTS_CUT ?? 0.05);
const here = path.dirname(fileURLToPath(import.meta.url));

let stack: Stack;
let proxy: FaultProxy;
beforeAll(async () => {
  stack = await startStack({
    users: 2,
    signer: { limits: { multipartThreshold: 5 * MiB, defaultPartSize: 5 * MiB } },
    // The signer presigns for the proxy's address, so every part PUT crosses it.
    storeEndpointFor: async (r2Url) => {
      proxy = await startFaultProxy({ target: r2Url, cutFraction: CUT, delayFraction: 0.2, delayMs: [20, 400], seed: 5 });
      return proxy.url;
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

/** Mixed sizes: a fifth single PUTs (0 B to 1 MiB), the rest 2–4 parts of 5 MiB. */
function sizes(seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: N }, (_, i) => (i % 5 === 0 ? Math.floor(rand() * MiB) : 5 * MiB + 1 + Math.floor(rand() * 14 * MiB)));
}

describe('faults', () => {
  it(`Node, widget protocol: ${N} uploads through a proxy cutting ${CUT * 100}% of part PUTs mid-body → all byte-identical`, async () => {
    const before = { ...proxy.stats };
    const client = new ChuteClient({ signerUrl: stack.signer.url, authToken: stack.users[0]?.token as string, concurrency: 4, multipartThreshold: 5 * MiB, maxAttempts: 12 });
    const data = sizes(1).map((s) => randomBytes(s));
    const results: { r: UploadResult; md5: string; size: number }[] = [];
    // Eight uploads at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < data.length) {
          const i = next++;
          const d = data[i] as Buffer;
          results[i] = { r: await client.upload(`fault-node-${i}.bin`, d), md5: md5hex(d), size: d.length };
        }
      }),
    );
    const bad: string[] = [];
    for (const x of results) {
      const stored = await objectMd5(stack.s3, BUCKET, x.r.key);
      if (!stored || stored.md5 !== x.md5 || stored.size !== x.size) bad.push(x.r.key);
    }
    const cut = proxy.stats.cut - before.cut;
    const retries = results.reduce((a, x) => a + x.r.partRetries, 0);
    console.log(`[faults] node: ${N} uploads, ${proxy.stats.eligible - before.eligible} part PUTs, ${cut} cut mid-body, ${proxy.stats.delayed - before.delayed} delayed, ${retries} part retries; not identical ${bad.length}`);
    expect(bad).toEqual([]);
    expect(cut).toBeGreaterThan(0);
    expect(retries).toBeGreaterThanOrEqual(cut);
  }, 600_000);

  it(`Chromium, @chute/uploader: ${N} uploads through the same proxy → all byte-identical`, async () => {
    const work = path.join(stack.dataDir, 'browser');
    mkdirSync(path.join(work, 'files'), { recursive: true });
    const files = sizes(2).map((s, i) => {
      const f = path.join(work, 'files', `fault-browser-${String(i).padStart(2, '0')}.bin`);
      const d = randomBytes(s);
      writeFileSync(f, d);
      return { f, md5: md5hex(d), size: s };
    });
    await buildPages(path.join(here, 'page'), path.join(work, 'pages'), ['faults']);
    const web = await startStaticServer({}, path.join(work, 'pages'));
    await stack.s3.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [web.url], AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'], AllowedHeaders: ['content-type', ...ALL_CHECKSUM_HEADERS], ExposeHeaders: ['ETag'] }],
        },
      }),
    );
    const browser = await launchChromium();
    const before = { ...proxy.stats };
    try {
      const { page } = browser;
      await page.goto(`${web.url}/faults.html`);
      await page.waitForFunction(() => 'faults' in globalThis);
      await page.setInputFiles('#files', files.map((x) => x.f));
      const out = await page.evaluate(
        (o) => (globalThis as unknown as { faults: { run(x: unknown): Promise<{ retries: number; peakInFlight: number; results: { name: string; key?: string; error?: string }[] }> } }).faults.run(o),
        { signerUrl: stack.signer.url, token: stack.users[1]?.token, partSize: 5 * MiB, multipartThreshold: 5 * MiB },
      );
      const bad: string[] = [];
      for (const [i, x] of files.entries()) {
        const r = out.results[i];
        if (!r?.key) {
          bad.push(`${path.basename(x.f)}: ${r?.error ?? 'no result'}`);
          continue;
        }
        const stored = await objectMd5(stack.s3, BUCKET, r.key);
        if (!stored || stored.md5 !== x.md5 || stored.size !== x.size) bad.push(`${r.key}: not identical`);
      }
      const cut = proxy.stats.cut - before.cut;
      const puts = proxy.stats.eligible - before.eligible;
      // Part PUTs beyond one per part are re-sends: every cut part must have been sent again.
      const parts = files.reduce((a, x) => a + (x.size >= 5 * MiB ? Math.ceil(x.size / (5 * MiB)) : 0), 0);
      console.log(`[faults] chromium: ${N} uploads, ${puts} part PUTs for ${parts} parts, ${cut} cut mid-body, ${proxy.stats.delayed - before.delayed} delayed, ${out.retries} 'retry' events, peak parts in flight ${out.peakInFlight}; not identical ${bad.length}`);
      expect(bad).toEqual([]);
      expect(cut).toBeGreaterThan(0);
      expect(puts - parts).toBeGreaterThanOrEqual(cut);
    } finally {
      await browser.close();
      await web.close();
    }
  }, 600_000);
});
