// An HTTP proxy in front of the signer that the test controls: it can answer some routes 404 (a
// signer that predates them) and hold every answer back by a round trip (a signer far away, so
// calls overlap as they would on a real link). Everything else is forwarded unchanged, with the
// signer's own Host, so the signer sees the page as same-origin and answers CORS as usual.
import http from 'node:http';

export interface SignerProxy {
  url: string;
  /** Paths answered 404 `not_found`, as an older signer would. */
  missing: Set<string>;
  /** Milliseconds each answer is held back. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startSignerProxy(target: string): Promise<SignerProxy> {
  const to = new URL(target);
  const proxy: SignerProxy = { url: '', missing: new Set(), delayMs: 0, close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', to).pathname;
    const later = (fn: () => void) => (proxy.delayMs > 0 ? setTimeout(fn, proxy.delayMs) : fn());
    if (req.method !== 'OPTIONS' && proxy.missing.has(path)) {
      req.resume();
      later(() => {
        res.writeHead(404, { 'content-type': 'application/json', 'access-control-allow-origin': req.headers.origin ?? '*' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: `No route ${path}.` } }));
      });
      return;
    }
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (answer) => {
      later(() => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  proxy.url = `http://127.0.0.1:${addr.port}`;
  server.unref();
  return proxy;
}
