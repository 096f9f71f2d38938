// The growth bench's page (test/bench/growth/bench.ts): Chute exactly as shipped — only the signer
// URL and the auth token are set, so the resume records go to IndexedDB, the hashing pool has its
// default size, tabs are coordinated (Web Locks, BroadcastChannel) and the part size is the default.
import { ChuteEngine } from '@chute/uploader';
import { measure, theFile } from '../../upload/page/common.js';

interface Opts {
  signerUrl: string;
  token: string;
}

async function run(o: Opts) {
  return measure(async () => {
    const engine = new ChuteEngine({ endpoint: o.signerUrl, getAuthToken: () => o.token });
    try {
      const result = await engine.upload(theFile());
      return { key: result.key, detail: { verifiedBy: result.verifiedBy?.algorithm, sentParts: result.sentParts, size: result.size } };
    } finally {
      engine.destroy();
    }
  });
}

(window as unknown as { bench: unknown }).bench = { run };
