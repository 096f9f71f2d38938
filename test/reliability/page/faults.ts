// Browser side of the fault suite: @chute/uploader's engine uploads every selected file through
// the signer; part PUTs pass a fault proxy that cuts some of them mid-body.
import { ChuteEngine, MemoryRecordStore } from '@chute/uploader';

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  multipartThreshold: number;
}

async function run(o: Opts) {
  const files = Array.from((document.querySelector('#files') as HTMLInputElement).files ?? []);
  const engine = new ChuteEngine({
    endpoint: o.signerUrl,
    getAuthToken: () => o.token,
    partSize: o.partSize,
    multipartThreshold: o.multipartThreshold,
    store: new MemoryRecordStore(),
  });
  let retries = 0;
  try {
    const results = await Promise.allSettled(
      files.map((f) => {
        const up = engine.add(f);
        up.on('retry', () => {
          retries++;
        });
        return up.start();
      }),
    );
    return {
      retries,
      peakInFlight: engine.inFlight.peak,
      results: results.map((r, i) =>
        r.status === 'fulfilled'
          ? { name: files[i]?.name, key: r.value.key, verifiedBy: r.value.verifiedBy?.algorithm }
          : { name: files[i]?.name, error: String((r.reason as Error)?.message ?? r.reason) },
      ),
    };
  } finally {
    engine.destroy();
  }
}

(window as unknown as { faults: unknown }).faults = { run };
