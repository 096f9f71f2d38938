// Chute as shipped on many files at once (a dropped folder): one engine, every file added at
// once, engine defaults (IndexedDB resume records, tab channel, Web Locks, worker hashing).
import { ChuteEngine, HttpSignerClient, MemoryLocks, type SignerClient, silentChannel } from '@chute/uploader';
import { measureMany } from './many-common.js';
import { pause } from './common.js';

interface Opts {
  signerUrl: string;
  token: string;
  /** Time between making the engine (page open) and the files being dropped. */
  pickMs?: number;
  /** Experiments only: engine options (the report says when any were set). */
  engine?: Record<string, unknown>;
  /** Experiments only (A/B of per-file browser CPU): no tab channel, in-page locks instead of Web Locks, one create call per file. */
  knobs?: { noChannel?: boolean; noLocks?: boolean; noBatch?: boolean };
}

async function run(o: Opts) {
  // Made when the page opens, as an app makes it; the files are dropped `pickMs` later.
  const engine = new ChuteEngine({
    endpoint: o.signerUrl,
    getAuthToken: () => o.token,
    ...(o.engine ?? {}),
    ...(o.knobs?.noChannel ? { channel: silentChannel } : {}),
    ...(o.knobs?.noLocks ? { locks: new MemoryLocks() } : {}),
    ...(o.knobs?.noBatch ? { signer: oneCreatePerFile(o) } : {}),
  });
  await pause(o.pickMs ?? 0);
  return measureMany(async (files) => {
    try {
      // Where a file's time goes: prepared (hash, create) until it is 'uploading', then waiting for a slot and its PUT.
      const t0 = performance.now();
      const prepared: number[] = [];
      const sent: number[] = [];
      // Start-up: when the last file was handed over, and when the first file reached 'uploading'.
      let firstUploading = 0;
      const results = Promise.all(
        files.map((f) => {
          const u = engine.add(f);
          let up = 0;
          u.on('status', (st) => {
            if (st === 'uploading' && up === 0) up = performance.now();
            if (st === 'uploading' && firstUploading === 0) firstUploading = up - t0;
          });
          return u.start().then((r) => {
            const end = performance.now();
            prepared.push((up || end) - t0);
            sent.push(end - (up || end));
            return r;
          });
        }),
      );
      const handedOverMs = Math.round(performance.now() - t0);
      const done = await results;
      const total = performance.now() - t0;
      const med = (a: number[]) => Math.round([...a].sort((x, y) => x - y)[a.length >> 1] ?? 0);
      const avg = (a: number[]) => Math.round(a.reduce((x, y) => x + y, 0) / total); // files in that stage on average (Little)
      const unverified = done.filter((r) => !r.verifiedBy).length;
      return {
        keys: done.map((r) => r.key),
        detail: { peakInFlight: engine.inFlight.peak, unverified, concurrency: engine.options.concurrency, uploadingMedianMs: med(sent), uploadingOnAverage: avg(sent), handedOverMs, firstUploadingMs: Math.round(firstUploading) },
      };
    } finally {
      engine.destroy();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run };

/** The signer client without `createMany`: one create call per file, as before batch creates. */
function oneCreatePerFile(o: Opts): SignerClient {
  const http = new HttpSignerClient({ endpoint: o.signerUrl, getAuthToken: () => o.token });
  return {
    create: (...a) => http.create(...a),
    signParts: (...a) => http.signParts(...a),
    listParts: (...a) => http.listParts(...a),
    complete: (...a) => http.complete(...a),
    abort: (...a) => http.abort(...a),
    discard: (...a) => http.discard(...a),
  };
}
