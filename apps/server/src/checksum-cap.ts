// With CHECKSUM_ALGORITHM=auto the widget must not ask the store for a checksum it cannot verify:
// a create that names one is answered with the algorithm the start-up probe chose instead (the
// response says which, and the uploader follows it). The signer itself has no such option yet.
import type { Signer } from '@chute/signer';
import type { ChecksumChoice } from './doctor/choose.js';

export function capChecksums(signer: Signer, choice: Pick<ChecksumChoice, 'algorithm' | 'supported'>): Signer {
  const supported = new Set<string>(choice.supported);
  async function rewrite(request: Request): Promise<Request> {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/api/uploads') return request;
    // Only small bodies with a declared length are read here; the signer refuses the others itself.
    const declared = Number(request.headers.get('content-length') ?? Number.NaN);
    if (!(declared >= 0 && declared <= signer.limits.maxBodyBytes)) return request;
    const text = await request.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const asked = (body as { checksumAlgorithm?: unknown } | undefined)?.checksumAlgorithm;
    // A client that sends a checksum value of its own keeps it (the signer checks the pair).
    const capped = typeof asked === 'string' && !supported.has(asked) && (body as { checksum?: unknown }).checksum === undefined;
    const out = capped ? JSON.stringify({ ...(body as object), checksumAlgorithm: choice.algorithm }) : text;
    const headers = new Headers(request.headers);
    headers.delete('content-length');
    return new Request(request.url, { method: 'POST', headers, body: out });
  }
  return {
    fetch: async (request, ctx) => signer.fetch(await rewrite(request), ctx),
    get store() {
      return signer.store;
    },
    get limits() {
      return signer.limits;
    },
    get limitStore() {
      return signer.limitStore;
    },
  };
}
