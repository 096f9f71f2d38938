// The one workerd module the Worker imports (types only what it uses; no @cloudflare/workers-types).
declare module 'cloudflare:workers' {
  /** Base class of Durable Objects callable over RPC. */
  export class DurableObject<Env = unknown> {
    constructor(ctx: unknown, env: Env);
  }
}
