import type { Signer } from './signer.js';

/**
 * `@chute/signer/fetch`: the signer as a fetch handler (`export default` of a Cloudflare Worker,
 * Deno.serve, Bun.serve). Only glue: the signer is made once per environment (a Worker's `env`
 * holds its secrets), `/api/*` goes to the core, everything else to `fallback`. The client IP
 * (per-IP limits, open dev mode) is `CF-Connecting-IP`, which Cloudflare sets and clients cannot.
 *
 *   export default chuteFetchHandler({ signer: (env) => createSigner({ … env.TOKEN_SECRET … }) });
 */
export interface FetchHandlerOptions<Env> {
  /** The signer, or how to make it from the environment (called once per `env` object). */
  signer: Signer | ((env: Env) => Signer | Promise<Signer>);
  /** Requests outside `/api/`: static assets, health. Default: 404 in the API's error shape. */
  fallback?: (request: Request, env: Env, signer: Signer) => Response | Promise<Response>;
  /** The caller's IP; default the `cf-connecting-ip` header. */
  clientIp?: (request: Request) => string | undefined;
}

export interface FetchHandler<Env> {
  fetch(request: Request, env: Env, ctx?: unknown): Promise<Response>;
}

const notFound = () =>
  new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found.' } }), {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

export function chuteFetchHandler<Env = unknown>(options: FetchHandlerOptions<Env>): FetchHandler<Env> {
  const made = new WeakMap<object, Promise<Signer>>();
  const signerFor = (env: Env): Promise<Signer> => {
    const make = options.signer;
    if (typeof make !== 'function') return Promise.resolve(make);
    const k = (env ?? made) as object;
    let s = made.get(k);
    if (!s) {
      s = Promise.resolve().then(() => make(env));
      // A failed start is retried on the next request, not cached.
      s.catch(() => made.delete(k));
      made.set(k, s);
    }
    return s;
  };
  const ipOf = options.clientIp ?? ((r: Request) => r.headers.get('cf-connecting-ip') ?? undefined);
  return {
    async fetch(request, env) {
      let signer: Signer;
      try {
        signer = await signerFor(env);
      } catch (err) {
        // A configuration mistake: say so in the log, answer in the API's error shape.
        console.error(err instanceof Error ? err.message : err);
        return new Response(JSON.stringify({ error: { code: 'internal_error', message: 'The signer is not configured correctly; see its log.' } }), {
          status: 500,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
      }
      if (!new URL(request.url).pathname.startsWith('/api/')) return options.fallback ? options.fallback(request, env, signer) : notFound();
      const ip = ipOf(request);
      return signer.fetch(request, ip ? { ip } : {});
    },
  };
}
