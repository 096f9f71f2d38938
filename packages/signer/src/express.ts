import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { type Request as ExpressRequest, type Response as ExpressResponse, Router } from 'express';
import type { Signer } from './signer.js';

/**
 * `@chute/signer/express`: mounts the signer as an Express 5 router. Only converts
 * req → Request and Response → res (streaming both ways); all logic lives in the core.
 * Mount without body parsers in front of it: the core reads and limits bodies itself.
 *   app.use('/signer', chuteRouter(signer))   // API under /signer/api/…
 */
export function chuteRouter(signer: Signer): Router {
  const router = Router();
  router.use(async (req: ExpressRequest, res: ExpressResponse, next) => {
    // Everything the signer answers lives under /api; the rest (static files, health) passes on.
    if (!req.path.startsWith('/api/')) return next();
    try {
      const base = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value);
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(new URL(req.url, base), {
        method: req.method,
        headers,
        ...(hasBody ? { body: Readable.toWeb(req) as unknown as ReadableStream, duplex: 'half' } : {}),
      } as RequestInit);
      const response = await signer.fetch(request, { ...(req.ip ? { ip: req.ip } : {}), baseUrl: base + req.baseUrl });
      res.status(response.status);
      response.headers.forEach((value, key) => {
        res.setHeader(key, value);
      });
      if (!response.body) return void res.end();
      Readable.fromWeb(response.body as unknown as NodeReadableStream).pipe(res);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
