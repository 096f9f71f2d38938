// An "edge" in front of an HTTP/1.1 origin, like Cloudflare's in front of R2: it terminates TLS,
// speaks HTTP/2 (and HTTP/1.1 for clients without ALPN h2) and forwards every request to the origin
// over a keep-alive pool. The Host header is kept (presigned URLs sign it), hop-by-hop headers are
// dropped (http2-proxy). Flow-control windows are opened wide: with Node's 64 KiB defaults one
// upload stream could carry only 64 KiB per round trip of the delay proxy in front of it.
import { Agent, request } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import proxy from 'http2-proxy';

export interface H2EdgeOptions {
  listenHost: string;
  listenPort: number;
  originHost: string;
  originPort: number;
  key: string;
  cert: string;
}

export interface H2Edge {
  url: string;
  server: Http2SecureServer;
  close(): Promise<void>;
}

const WINDOW = 16 * 1024 * 1024;

export async function startH2Edge(o: H2EdgeOptions): Promise<H2Edge> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createSecureServer({
    key: o.key,
    cert: o.cert,
    allowHTTP1: true,
    settings: { initialWindowSize: WINDOW, maxConcurrentStreams: 256 },
  });
  server.on('session', (session) => session.setLocalWindowSize(4 * WINDOW));
  server.on('request', (req, res) => {
    const host = req.headers[':authority'] ?? req.headers.host;
    const done = proxy.web(req, res, {
      hostname: o.originHost,
      port: o.originPort,
      onReq: async (_req, options) => request({ ...options, agent, headers: { ...options.headers, host } }),
    });
    Promise.resolve(done).catch((err: unknown) => {
      // A failure after the head went out can only cut the stream; before it, the client gets a status.
      if (res.headersSent) return void res.stream.destroy();
      res.statusCode = (err as { statusCode?: number }).statusCode ?? 502;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listenPort, o.listenHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${o.listenHost}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
