// An HTTP proxy that misbehaves on purpose: it cuts a chosen fraction of requests in the middle
// of their body (the store sees a truncated upload, the client sees a dropped connection) and
// holds others back for a while. Seeded, so a failing run can be replayed.
import http from 'node:http';
import type net from 'node:net';

export interface FaultProxyOptions {
  /** Upstream base URL, e.g. the store's endpoint. */
  target: string;
  /** Fraction of eligible requests cut mid-body (0..1). */
  cutFraction?: number;
  /** Fraction of the remaining eligible requests held back before forwarding (0..1). */
  delayFraction?: number;
  /** Hold time range in ms for delayed requests. */
  delayMs?: [number, number];
  /** Which requests may be faulted; default: PUTs of multipart parts (`?partNumber=`). */
  eligible?: (req: http.IncomingMessage) => boolean;
  /** PRNG seed for reproducible faults. */
  seed?: number;
}

export interface FaultStats {
  requests: number;
  eligible: number;
  cut: number;
  delayed: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  stats: FaultStats;
  close(): Promise<void>;
}

/** mulberry32: tiny, fast, good enough to pick which requests fail. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const isPartUpload = (req: http.IncomingMessage): boolean =>
  req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');

export function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const rand = seededRandom(opts.seed ?? 1);
  const cutFraction = opts.cutFraction ?? 0.05;
  const delayFraction = opts.delayFraction ?? 0;
  const [dMin, dMax] = opts.delayMs ?? [50, 500];
  const eligible = opts.eligible ?? isPartUpload;
  const stats: FaultStats = { requests: 0, eligible: 0, cut: 0, delayed: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<net.Socket>();

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, cutAt: number | undefined) => {
    const up = http.request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers, // Host included unchanged: SigV4 signatures stay valid.
      agent,
    });
    up.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    if (cutAt === undefined) {
      req.pipe(up);
      return;
    }
    let sent = 0;
    req.on('data', (chunk: Buffer) => {
      if (sent >= cutAt) return;
      const take = Math.min(chunk.length, cutAt - sent);
      up.write(chunk.subarray(0, take));
      sent += take;
      if (sent >= cutAt) {
        // Let the prefix reach the store, then drop both connections without a response.
        setTimeout(() => {
          up.destroy();
          req.socket.destroy();
        }, 20);
      }
    });
    req.on('end', () => {
      if (sent < cutAt) {
        up.destroy();
        req.socket.destroy();
      }
    });
  };

  const server = http.createServer((req, res) => {
    stats.requests += 1;
    if (!eligible(req)) return forward(req, res, undefined);
    stats.eligible += 1;
    const r = rand();
    if (r < cutFraction) {
      stats.cut += 1;
      const length = Number(req.headers['content-length'] ?? 0);
      // Somewhere in the middle of the body; bodies of unknown length are cut after 1 byte.
      const cutAt = length > 1 ? Math.max(1, Math.floor(length * (0.1 + 0.8 * rand()))) : 1;
      return forward(req, res, cutAt);
    }
    if (rand() < delayFraction) {
      stats.delayed += 1;
      req.pause();
      setTimeout(() => forward(req, res, undefined), dMin + (dMax - dMin) * rand());
      return;
    }
    forward(req, res, undefined);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        stats,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            agent.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
