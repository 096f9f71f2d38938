// One trusted proxy hop in front of a signer: forwards every request and appends the address it
// "sees" the client at (fixed, since every test client is on loopback) to X-Forwarded-For, as
// nginx's `proxy_add_x_forwarded_for` does. Whatever the client forged stays to its left.
import { createServer, request, type Server } from 'node:http';

export const CLIENT_ADDRESS = '203.0.113.9';

export async function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    const forwarded = req.headers['x-forwarded-for'];
    const xff = forwarded ? `${Array.isArray(forwarded) ? forwarded.join(', ') : forwarded}, ${CLIENT_ADDRESS}` : CLIENT_ADDRESS;
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host, 'x-forwarded-for': xff }, agent: false },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
