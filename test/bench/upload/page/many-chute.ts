// Chute as shipped on many files at once (a dropped folder): one engine, every file added at
// once, engine defaults (IndexedDB resume records, tab channel, Web Locks, worker hashing).
import { ChuteEngine } from '@chute/uploader';
import { measureMany } from './many-common.js';

interface Opts {
  signerUrl: string;
  token: string;
  /** Experiments only: engine options (the report says when any were set). */
  engine?: Record<string, unknown>;
}

async function run(o: Opts) {
  return measureMany(async (files) => {
    const engine = new ChuteEngine({ endpoint: o.signerUrl, getAuthToken: () => o.token, ...(o.engine ?? {}) });
    try {
      const results = await Promise.all(files.map((f) => engine.upload(f)));
      const unverified = results.filter((r) => !r.verifiedBy).length;
      return { keys: results.map((r) => r.key), detail: { peakInFlight: engine.inFlight.peak, unverified, concurrency: engine.options.concurrency } };
    } finally {
      engine.destroy();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run };
