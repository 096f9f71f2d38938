// chute-server's API as a Cloudflare Worker: the same signer core (@chute/signer), mounted with
// its fetch adapter; `/healthz` as in chute-server; other paths from the ASSETS binding or 404.
import { memoryLimitStore } from '@chute/signer';
import { chuteFetchHandler } from '@chute/signer/fetch';
import { type Env, signerFromEnv } from './config.js';
import { durableObjectLimitStore } from './limits.js';

export { ChuteLimits } from './limits.js';
export type { Env } from './config.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

export default chuteFetchHandler<Env>({
  signer: (env) => signerFromEnv(env, env.LIMITS ? durableObjectLimitStore(env.LIMITS) : memoryLimitStore()),
  async fallback(request, env, signer) {
    const path = new URL(request.url).pathname;
    if (path === '/healthz' && request.method === 'GET') {
      try {
        await signer.store.ping();
        return json(200, { ok: true, bucket: 'reachable' });
      } catch {
        return json(503, { ok: false, bucket: 'unreachable' });
      }
    }
    if (env.ASSETS && (request.method === 'GET' || request.method === 'HEAD')) return env.ASSETS.fetch(request);
    return json(404, { error: { code: 'not_found', message: 'Not found.' } });
  },
});
