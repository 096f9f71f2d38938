// Chute as shipped on many files at once (a dropped folder): one engine, every file added at
// once, engine defaults (IndexedDB resume records, tab channel, Web Locks, worker hashing).
import { ChuteEngine, MemoryLocks, silentChannel } from '@chute/uploader';
import { measureMany } from './many-common.js';

interface Opts {
  signerUrl: string;
  token: string;
  /** Experiments only: engine options (the report says when any were set). */
  engine?: Record<string, unknown>;
  /** Experiments only (A/B of per-file browser CPU): no tab channel and/or in-page locks instead of Web Locks. */
  knobs?: { noChannel?: boolean; noLocks?: boolean };
}

async function run(o: Opts) {
  return measureMany(async (files) => {
    const engine = new ChuteEngine({
      endpoint: o.signerUrl,
      getAuthToken: () => o.token,
      ...(o.engine ?? {}),
      ...(o.knobs?.noChannel ? { channel: silentChannel } : {}),
      ...(o.knobs?.noLocks ? { locks: new MemoryLocks() } : {}),
    });
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
