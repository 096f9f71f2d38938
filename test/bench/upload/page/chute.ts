// Chute's engine (@chute/uploader): worker-hashed, parallel parts, full-object CRC64NVME.
import { ChuteEngine, defaultPoolSize, MemoryRecordStore } from '@chute/uploader';
import { measure, theFile } from './common.js';

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  checksum: 'CRC64NVME' | 'NONE';
  concurrency?: number;
}

async function run(o: Opts) {
  return measure(async () => {
    const engine = new ChuteEngine({
      endpoint: o.signerUrl,
      getAuthToken: () => o.token,
      partSize: o.partSize,
      checksumAlgorithm: o.checksum,
      store: new MemoryRecordStore(),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
    });
    try {
      const result = await engine.upload(theFile());
      return {
        key: result.key,
        detail: { verifiedBy: result.verifiedBy?.algorithm, peakInFlight: engine.inFlight.peak, sentParts: result.sentParts, poolSize: defaultPoolSize() },
      };
    } finally {
      engine.destroy();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run };
